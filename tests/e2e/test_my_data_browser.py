"""`/my-data` in Chromium against a real `ehrlich serve`, the link mailed to a real SMTP
server on loopback: ask for the link, open the report, take the JSON copy, correct the
name, erase with one confirmation, and see the link answer "erased"; with JavaScript on
(English) and off (German); axe-core finds nothing serious or critical on any page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from ehrlich.domains import open_instance
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.consent.conftest import notice_text
from tests.e2e.browser import axe_violations
from tests.e2e.servers import free_port, running_servers
from tests.factories import new_subject, publish_notice, record
from tests.instances import InstanceTemplates
from tests.mail.smtp_server import SmtpServer

pytestmark = pytest.mark.slow
MAIL_SECONDS = 60  # the server's worker runs the link job, then hands the mail over


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer,
           instance_templates: InstanceTemplates) -> Iterator[tuple[str, Settings]]:
    root = tmp_path_factory.mktemp("my-data-browser")
    settings = Settings(data_dir=root / "data", key_file=root / "keys" / "k.key")
    instance_templates.install(settings)
    instance = open_instance(settings)
    try:
        publish_notice(instance, notice_text())
        for address, name in (("ines@example.org", "Ines Müller"),
                              ("omar@example.org", "Omar Haddad")):
            person = new_subject(instance, address, name=name)
            record(instance, person, "granted", now=NOW)
    finally:
        instance.close()
    mail = {"EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": str(smtp.port),
            "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": "Lindenhof <news@shop.example>"}
    with running_servers(settings.data_dir / "ehrlich.toml", 1, env=mail) as urls:
        yield urls[0], settings


def link_for(smtp: SmtpServer, address: str) -> str:
    deadline = time.monotonic() + MAIL_SECONDS
    while True:
        for got in smtp.received:
            if address in got.rcpt_tos:
                message = message_from_bytes(got.data, policy=policy.default)
                assert isinstance(message, EmailMessage)
                body = message.get_body(("plain",))
                assert body is not None
                found = re.search(r"(/my-data/[A-Za-z0-9_-]+)", str(body.get_content()))
                assert found is not None
                return found.group(1)
        assert time.monotonic() < deadline, f"no mail to {address}"
        time.sleep(0.1)  # waiting for the worker, not for logic


def clean(page: Page) -> None:
    assert axe_violations(page) == []


def walk_through(page: Page, base: str, smtp: SmtpServer, tmp: Path, *, address: str,
                 name: str, texts: dict[str, str], audit: bool) -> None:
    page.goto(f"{base}/my-data")
    if audit:
        clean(page)
    page.fill("#email", address)
    page.click("button[type=submit]")
    page.wait_for_selector(f"text={texts['check']}")
    path = link_for(smtp, address)
    page.goto(f"{base}{path}")
    assert name in page.locator("main").inner_text()
    if audit:
        clean(page)
    with page.expect_download() as got:
        page.click("a[href$='/data.json']")
    saved = tmp / f"{address}.json"
    got.value.save_as(saved)
    assert address in saved.read_text(encoding="utf-8")
    page.fill("#name", f"{name} Jr.")
    page.click("form[action$='/correct'] button[type=submit]")
    page.wait_for_selector(f"text={texts['saved']}")
    assert f"{name} Jr." in page.locator("main").inner_text()
    page.click(f"text={texts['erase']}")
    page.wait_for_selector(f"text={texts['sure']}")
    if audit:
        clean(page)
    page.click(f"text={texts['yes']}")
    page.wait_for_selector(f"text={texts['erased']}")
    page.goto(f"{base}{path}")
    assert texts["erased"] in page.locator("h1").inner_text()


ENGLISH = {"check": "Please check your mail", "saved": "Your changes are saved.",
           "erase": "Erase my data…", "sure": "Erase your data?",
           "yes": "Yes, erase my data", "erased": "Your data is erased"}
GERMAN = {"check": "Bitte sehen Sie in Ihr Postfach", "saved": "Ihre Änderungen sind gespeichert.",
          "erase": "Meine Daten löschen …", "sure": "Ihre Daten löschen?",
          "yes": "Ja, meine Daten löschen", "erased": "Ihre Daten sind gelöscht"}


def test_my_data_with_javascript_and_axe(served: tuple[str, Settings], smtp: SmtpServer,
                                         browser: Browser, tmp_path: Path) -> None:
    base, _ = served
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    walk_through(page, base, smtp, tmp_path, address="ines@example.org", name="Ines Müller",
                 texts=ENGLISH, audit=True)
    context.close()


def test_my_data_without_javascript_in_german(served: tuple[str, Settings], smtp: SmtpServer,
                                              browser: Browser, tmp_path: Path) -> None:
    base, _ = served
    context = browser.new_context(locale="de-DE", java_script_enabled=False,
                                  accept_downloads=True)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if isinstance(m, ConsoleMessage)
            else None)
    walk_through(page, base, smtp, tmp_path, address="omar@example.org", name="Omar Haddad",
                 texts=GERMAN, audit=False)
    assert not [m for m in console if "Content Security Policy" in m], console
    context.close()
