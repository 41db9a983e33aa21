"""The signup form in Chromium against a real `ehrlich serve`: keyboard only, and with
JavaScript switched off; no CSP violations; the accessibility audit of the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage
from sqlalchemy import select

from ehrlich.consent.models import ConsentEvent
from ehrlich.instance.service import open_instance
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.consent.conftest import notice_text
from tests.e2e.browser import audit_accessibility
from tests.e2e.servers import running_servers
from tests.instances import InstanceTemplates

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, instance_templates: InstanceTemplates
           ) -> Iterator[tuple[str, Settings]]:
    root = tmp_path_factory.mktemp("signup-browser")
    settings = Settings(data_dir=root / "data", key_file=root / "keys" / "k.key")
    instance_templates.install(settings)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            instance.notices.publish(session, notice_text(), file="notice.yaml",
                                     publisher="test", now=NOW)
    finally:
        instance.close()
    with running_servers(settings.data_dir / "ehrlich.toml", 1) as urls:
        yield urls[0], settings


def requested(settings: Settings) -> list[tuple[str, str]]:
    instance = open_instance(settings)
    try:
        with instance.db.read() as session:
            rows = session.execute(select(ConsentEvent.purpose, ConsentEvent.method).where(
                ConsentEvent.action == "requested")).all()
        return [(p, m) for p, m in rows]
    finally:
        instance.close()


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
