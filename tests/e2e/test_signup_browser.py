"""The signup form in Chromium against a real `ehrlich serve` with mail going to a real
SMTP server on loopback: keyboard only, and with JavaScript switched off; once the CAPTCHA
is required, a German signup (solved in the browser) and a signup without JavaScript (the
<noscript> path); no CSP violations; the accessibility audit of the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage
from sqlalchemy import select

from ehrlich.consent.models import ConsentEvent
from ehrlich.domains import open_instance
from ehrlich.settings import Settings
from tests.consent.conftest import notice_text
from tests.consent.helpers import consent_texts
from tests.e2e.browser import audit_accessibility
from tests.e2e.servers import free_port, running_servers
from tests.factories import publish_notice
from tests.instances import InstanceTemplates
from tests.mail.smtp_server import SmtpServer

pytestmark = pytest.mark.slow
MAIL_SECONDS = 60  # the server's worker hands the mail over; a busy machine takes a while


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


def serve(root: Path, smtp: SmtpServer, templates: InstanceTemplates, **env: str
          ) -> Iterator[tuple[str, Settings]]:
    """A published instance served by `ehrlich serve`, its mail going to `smtp`."""
    settings = Settings(data_dir=root / "data", key_file=root / "keys" / "k.key")
    templates.install(settings)
    instance = open_instance(settings)
    try:
        publish_notice(instance, notice_text())
    finally:
        instance.close()
    mail = {"EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": str(smtp.port),
            "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": "Lindenhof <news@shop.example>"}
    with running_servers(settings.data_dir / "ehrlich.toml", 1, env={**mail, **env}) as urls:
        yield urls[0], settings


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer,
           instance_templates: InstanceTemplates) -> Iterator[tuple[str, Settings]]:
    yield from serve(tmp_path_factory.mktemp("signup-browser"), smtp, instance_templates)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer,
            instance_templates: InstanceTemplates) -> Iterator[tuple[str, Settings]]:
    """An instance that asks every signup for the CAPTCHA."""
    yield from serve(tmp_path_factory.mktemp("signup-captcha"), smtp, instance_templates,
                     EHRLICH_SIGNUP_CAPTCHA_AFTER="0")


def mail_to(smtp: SmtpServer, address: str) -> EmailMessage:
    """The mail the server's worker delivers to `address` (waits for the hand-over)."""
    deadline = time.monotonic() + MAIL_SECONDS
    while True:
        for got in smtp.received:
            if address in got.rcpt_tos:
                message = message_from_bytes(got.data, policy=policy.default)
                assert isinstance(message, EmailMessage)
                return message
        assert time.monotonic() < deadline, f"no mail to {address}"
        time.sleep(0.1)  # waiting for the worker, not for logic


def requested_events(settings: Settings) -> list[ConsentEvent]:
    instance = open_instance(settings)
    try:
        with instance.db.read() as session:
            return list(session.execute(select(ConsentEvent).where(
                ConsentEvent.action == "requested").order_by(ConsentEvent.at,
                                                             ConsentEvent.id)).scalars())
    finally:
        instance.close()


def requested(settings: Settings) -> list[tuple[str, str]]:
    return [(e.purpose, e.method) for e in requested_events(settings)]


def test_keyboard_only_signup(served: tuple[str, Settings], browser: Browser) -> None:
    base, settings = served
    before = len(requested(settings))
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}")
            if isinstance(m, ConsoleMessage) else None)
    page.goto(f"{base}/signup")
    page.keyboard.press("Tab")  # skip the brand link
    focused = ""
    for _ in range(5):
        focused = page.evaluate("document.activeElement.id")
        if focused == "email":
            break
        page.keyboard.press("Tab")
    assert focused == "email"
    page.keyboard.type("kim@example.org")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "purpose-newsletter"
    page.keyboard.press("Space")
    assert page.is_checked("#purpose-newsletter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the second purpose, unticked; the honeypot is skipped
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=check your mail")
    assert not [m for m in console if "Content Security Policy" in m], console
    assert requested(settings)[before:] == [("newsletter", "form")]
    context.close()


def test_form_works_with_javascript_disabled(served: tuple[str, Settings],
                                             browser: Browser) -> None:
    base, settings = served
    before = len(requested(settings))
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/signup")
    assert page.locator("h1").inner_text() == "Anmelden"
    page.fill("#email", "lou@example.org")
    page.check("#purpose-partner_offers")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Bitte sehen Sie in Ihr Postfach")
    assert requested(settings)[before:] == [("partner_offers", "form")]
    context.close()


def test_signup_page_passes_the_accessibility_audit(served: tuple[str, Settings],
                                                    browser: Browser) -> None:
    base, _ = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/signup")
    report = audit_accessibility(page)
    context.close()
    assert report["problems"] == [], report
    assert report["checked"] > 5


def german_text(settings: Settings, purpose: str) -> str:
    instance = open_instance(settings)
    try:
        return consent_texts(instance, "de")[purpose]
    finally:
        instance.close()


def test_german_signup_through_the_captcha_records_and_mails_german(
        guarded: tuple[str, Settings], smtp: SmtpServer, browser: Browser) -> None:
    base, settings = guarded
    before = len(requested_events(settings))
    context = browser.new_context(locale="en-GB")  # German chosen on the page, not by locale
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}")
            if isinstance(m, ConsoleMessage) else None)
    page.goto(f"{base}/signup?lang=de")
    page.fill("#email", "greta@example.org")
    page.check("#purpose-newsletter")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-altcha-state=solved]", timeout=MAIL_SECONDS * 1000)
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("[data-altcha-fallback]").count() == 0  # removed when scripts run
    assert page.locator("[data-altcha-status]").inner_text() == "Fertig."
    page.click("button[type=submit]")
    page.wait_for_selector("text=Bitte sehen Sie in Ihr Postfach")
    assert not [m for m in console if "Content Security Policy" in m], console
    context.close()
    [event] = requested_events(settings)[before:]
    assert (event.language, event.text_shown) == ("de", german_text(settings, "newsletter"))
    mail = mail_to(smtp, "greta@example.org")
    assert str(mail["Subject"]).startswith("Bitte bestätigen")
    assert mail["Content-Language"] == "de"


def test_without_javascript_the_captcha_is_no_dead_end(
        guarded: tuple[str, Settings], smtp: SmtpServer, browser: Browser) -> None:
    base, settings = guarded
    before = len(requested_events(settings))
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/signup")
    page.fill("#email", "noscript@example.org")
    page.check("#purpose-newsletter")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Kein JavaScript in Ihrem Browser?")
    assert "Einen Moment" not in page.locator("main").inner_text()
    assert requested_events(settings)[before:] == []
    page.click("text=Ohne JavaScript senden")
    page.wait_for_selector("text=Bitte sehen Sie in Ihr Postfach")
    context.close()
    assert [(e.purpose, e.language) for e in requested_events(settings)[before:]] == [
        ("newsletter", "de")]
    assert str(mail_to(smtp, "noscript@example.org")["Subject"]).startswith(
        "Bitte bestätigen")
