"""A campaign in Debian's Chromium, from the console: write it (the purpose chosen from the
notice's consent purposes), preview it, send a test to oneself, send it, and read the
reports page with its server-drawn charts. The mail is captured by an SMTP sink on
loopback (aiosmtpd): the test and the campaign arrive there. Every page is axe-core clean
and keeps the Content-Security-Policy; nothing scrolls sideways at 320 px; a screenshot of
every step goes to the test's artefact directory."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from ehrlich.admin.deps import guide_of
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.campaigns.schemas import CampaignInput
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import run_campaign
from ehrlich.domains import open_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings
from tests.e2e.browser import artefact_dir, axe_script, axe_violations, reflow_overflow
from tests.e2e.servers import free_port, running_servers
from tests.e2e.test_console_browser import RECORD_VIOLATIONS
from tests.factories import new_subject, record
from tests.instances import InstanceTemplates
from tests.mail.smtp_server import SmtpServer

pytestmark = pytest.mark.slow
MARKETER = "marketer@example.org"
PEOPLE = ("ada@example.org", "grace@example.org", "kim@example.org")
SENDER = "Lindenhof <news@shop.example>"
WAIT_SECONDS = 60


@dataclass
class Site:
    page: Page
    audited: BrowserContext
    sink: SmtpServer
    shots: Path


def _instance(settings: Settings, templates: InstanceTemplates) -> str:
    """A published notice, three people in the newsletter audience, one campaign sent
    before (so the reports page has two to chart), and a signed-in marketer's session."""
    now = datetime.now(UTC)
    templates.install(settings)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            number = instance.notices.publish(session, example_notice_text(),
                                              file="notice.yaml", publisher="test",
                                              now=now).version.number
        for email in PEOPLE:
            record(instance, new_subject(instance, email, name=email.split("@")[0].title()),
                   "granted", notice_version=number)
        campaigns = instance.service(CampaignsService)
        october = campaigns.create(instance.db, CampaignInput(
            name="October", purpose="newsletter", subject="October at the Lindenhof",
            text_body="Hello {{ name }}"), actor="test", now=now).id
        campaigns.act(instance.db, october, "send", actor="test", now=now)
        run_campaign(instance, october)
        with instance.db.write() as session:
            view, _ = instance.staff.users.add(
                session, email=MARKETER, role=Role.MARKETER, actor="test",
                actor_role=Role.OWNER, now=now, password="violet-harbour-lantern-917")
            instance.staff.users.acknowledge_guide(session, view.id, guide_of(instance).hash,
                                                   now=now)
            token = instance.staff.sessions.create(session, view.id, stage=STAGE_FULL,
                                                   now=now)
    finally:
        instance.close()
    return token


@pytest.fixture
def site(tmp_path: Path, browser: Browser, instance_templates: InstanceTemplates,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    axe_script()  # skip (or fail in CI) before starting anything
    sink = SmtpServer(free_port()).start()
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        base_url=f"http://127.0.0.1:{port}", smtp_host="127.0.0.1",
                        smtp_port=sink.port, smtp_tls="none", smtp_from=SENDER)
    env = {"EHRLICH_INPROCESS_WORKER": "true", "EHRLICH_PORT": str(port),
           "EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": str(sink.port),
           "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": SENDER}
    try:
        token = _instance(settings, instance_templates)
        sink.received.clear()  # October's mail; the test counts November's
        with running_servers(settings.data_dir / "ehrlich.toml", 1, env=env,
                             ports=[port]) as urls:
            cookie = [{"name": "ehrlich-session", "value": token, "url": urls[0]}]
            context = browser.new_context(base_url=urls[0],
                                          viewport={"width": 1280, "height": 900})
            context.add_cookies(cookie)  # type: ignore[arg-type]
            audited = browser.new_context(base_url=urls[0],
                                          viewport={"width": 320, "height": 800})
            audited.add_cookies(cookie)  # type: ignore[arg-type]
            page = context.new_page()
            page.add_init_script(RECORD_VIOLATIONS)
            yield Site(page, audited, sink,
                       artefact_dir(tmp_path_factory, "campaign-browser"))
            assert page.evaluate("window.__cspViolations") == []
            context.close()
            audited.close()
    finally:
        sink.stop()


def _check(site: Site, name: str) -> None:
    """Screenshots of the page as it stands (desktop and 320 px, full page), axe-core on
    it, then axe-core and the reflow check on the same address 320 px wide."""
    page = site.page
    assert page.evaluate("window.__cspViolations") == [], name
    page.screenshot(path=str(site.shots / f"{name}-desktop.png"), full_page=True)
    problems = axe_violations(page)
    audit = site.audited.new_page()
    audit.goto(page.url)
    audit.screenshot(path=str(site.shots / f"{name}-320.png"), full_page=True)
    problems += axe_violations(audit) + reflow_overflow(audit)
    audit.close()
    assert problems == [], (name, problems)


def _wait_for(what: str, done: Callable[[], bool]) -> None:
    """The worker runs in the server process; the sink is the only way to see it."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT_SECONDS} s")
        time.sleep(0.1)


def test_create_preview_test_send_send_and_report(site: Site) -> None:
    page, sink = site.page, site.sink
    page.goto("/admin/campaigns")
    _check(site, "01-list")
    page.click("main a[href='/admin/campaigns/new']")
    page.wait_for_url("**/admin/campaigns/new")
    options = page.locator("#purpose option")
    assert options.all_inner_texts() == ["Newsletter by email (newsletter)"]
    _check(site, "02-new")
    page.fill("#name", "November")
    page.select_option("#purpose", "newsletter")
    page.fill("#subject", "November news for {{ name }}")
    page.fill("#text_body", "Hello {{ name }},\nthe winter menu is here.\n\n"
                            "Unsubscribe: {{ unsubscribe_url }}\n")
    page.fill("#html_body", "<p>Hello {{ name }}, the winter menu is here.</p>")
    with page.expect_navigation():
        page.click("main form button[type=submit]:has-text('Save')")
    assert re.search(r"/admin/campaigns/[0-9a-f-]{36}$", page.url), page.url
    assert page.locator("h1").inner_text() == "November"

    assert "November news for Ada Lovelace" in page.content()  # the sample preview
    assert page.frame_locator("iframe").locator("p").inner_text() == (
        "Hello Ada Lovelace, the winter menu is here.")
    _check(site, "03-preview")

    page.click("button:has-text('Send a test to me')")
    assert page.locator(".flash.ok[role=status]").inner_text() == (
        "A test was sent to your own address.")
    _wait_for("the test mail", lambda: len(sink.received) == 1)
    test_mail = message_from_bytes(sink.received[0].data, policy=policy.default)
    assert sink.received[0].rcpt_tos == [MARKETER]
    assert str(test_mail["Subject"]) == "[Test] November news for Ada Lovelace"
    _check(site, "04-test-sent")

    with page.expect_navigation():
        page.click("button[name=action][value=send]")
    _wait_for("the campaign's mail", lambda: len(sink.received) == 1 + len(PEOPLE))
    got = sorted(r.rcpt_tos[0] for r in sink.received[1:])
    assert got == sorted(PEOPLE)
    subjects = {str(message_from_bytes(r.data, policy=policy.default)["Subject"])
                for r in sink.received[1:]}
    assert subjects == {"November news for Ada", "November news for Grace",
                        "November news for Kim"}
    _wait_for("the campaign to finish", lambda: (page.reload() or True) and (
        page.locator(".page-header .badge").inner_text() == "Sent"))
    _check(site, "05-sent")

    page.click("a[href='/admin/campaigns/reports']")
    page.wait_for_url("**/admin/campaigns/reports")
    assert page.locator("svg.chart[role=img]").count() == 2
    assert page.locator("svg.chart title").first.text_content() == (
        "Sent, delivered and bounced per campaign")
    rows = page.locator("#campaign-reports tbody tr")
    assert rows.count() == 2
    assert rows.nth(1).locator("th").inner_text() == "November"
    cells = rows.nth(1).locator("td.num").all_inner_texts()
    assert cells == ["3", "3", "0", "0", "0", "0", "0.00 %"]
    _check(site, "06-reports")
