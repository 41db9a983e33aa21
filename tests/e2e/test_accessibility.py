"""Every console page and public page in Chromium: axe-core finds no violation of impact
serious or critical, nothing scrolls sideways at 320 CSS px (WCAG 1.4.10 reflow), no
one-word table header is broken across lines, and the page raises no
Content-Security-Policy violation (checked before axe's script is evaluated in it). A
screenshot of each whole page at both widths goes to the artefact directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page
from sqlalchemy import select

from ehrlich.auth.models import StaffSession
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.auth.totp import code_at
from ehrlich.breach.schemas import BreachChanges, NewBreach
from ehrlich.breach.service import BreachService
from ehrlich.consent.models import ConsentEvent
from ehrlich.consent.signup.links import preferences_token
from ehrlich.domains import open_instance
from ehrlich.rights.links import my_data_token
from ehrlich.rights.schemas import NewRequest
from ehrlich.rights.service import RightsService
from ehrlich.settings import Settings
from ehrlich.sharing.copies import CopiesService
from ehrlich.sharing.schemas import CopyRequest
from tests.consent.conftest import notice_text
from tests.e2e.browser import (
    DESKTOP,
    NARROW,
    SHOTS,
    artefact_dir,
    axe_script,
    axe_violations,
    broken_headers,
    csp_violations,
    load_axe_in_every_page,
    record_csp_violations,
    reflow_overflow,
)
from tests.e2e.servers import free_port, running_servers
from tests.factories import new_subject, record
from tests.instances import InstanceTemplates
from tests.mail.smtp_server import SmtpServer

pytestmark = pytest.mark.slow
OWNER, PASSWORD = "owner@example.org", "violet-harbour-lantern-917"
WIDTHS = {"desktop": DESKTOP, "narrow": NARROW}


@dataclass(frozen=True)
class Site:
    base: str
    owner_secret: str
    subject_id: str
    event_id: str
    preferences: str
    shots: Path
    my_data: str
    request_id: str
    copy_id: str
    breach_id: str


def _staff(settings: Settings, email: str, role: Role, *, totp: bool) -> str | None:
    """A staff account with PASSWORD; with `totp`, enrolled a while ago (its secret)."""
    instance = open_instance(settings)
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    try:
        with instance.db.write() as session:
            view, _ = instance.staff.users.add(session, email=email, role=role, actor="test",
                                               actor_role=Role.OWNER, now=earlier,
                                               password=PASSWORD)
            if not totp:
                return None
            token = instance.staff.sessions.create(session, view.id, stage=STAGE_FULL,
                                                   now=earlier)
            row = instance.staff.sessions.row(session, token)
            assert isinstance(row, StaffSession)
            secret = instance.staff.users.begin_enrolment(session, view.id, row).secret
            instance.staff.users.confirm_enrolment(session, view.id, row,
                                                   code_at(secret, earlier), now=earlier)
            instance.staff.sessions.end(session, token)
            return secret
    finally:
        instance.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         instance_templates: InstanceTemplates) -> Iterator[Site]:
    axe_script()  # skip (or fail in CI) before starting anything
    root = tmp_path_factory.mktemp("a11y")
    settings = Settings(data_dir=root / "data", key_file=root / "keys" / "k.key")
    instance_templates.install(settings)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            instance.notices.publish(session, notice_text(), file="notice.yaml",
                                     publisher="test", now=datetime.now(UTC))
        subject = new_subject(instance, "ada@example.org")
        record(instance, subject, "granted")
        with instance.db.read() as session:
            event = session.execute(select(ConsentEvent.id)).scalar_one()
        token = preferences_token(instance.keyring, subject_id=subject, now=datetime.now(UTC))
        my_data = my_data_token(instance.keyring, subject_id=subject, now=datetime.now(UTC))
        request_id = instance.service(RightsService).record(
            instance.db, NewRequest("access", "letter", "id-document", datetime.now(UTC),
                                    subject), role=Role.OWNER, actor="test",
            now=datetime.now(UTC)).id
        with instance.db.write() as session:
            copy_id = instance.service(CopiesService).issue(session, CopyRequest(
                "audience", "newsletter/email", ("id", "email"), "csv",
                "December mailing from the mail tool", "Mail tool upload"),
                holder="staff:someone", now=datetime.now(UTC)).id
        breaches = instance.service(BreachService)
        breach_id = breaches.open(instance.db, NewBreach(
            title="Support laptop stolen", noticed_at=datetime.now(UTC) - timedelta(hours=80),
            data_categories=["email", "name"]), actor="test", now=datetime.now(UTC)).id
        breaches.update(instance.db, breach_id, BreachChanges(
            measures="Remote wipe; passwords changed.", people_estimate=40),
            actor="test", now=datetime.now(UTC))
    finally:
        instance.close()
    secret = _staff(settings, OWNER, Role.OWNER, totp=True)
    assert secret is not None
    for width in WIDTHS:
        _staff(settings, f"new-{width}@example.org", Role.ADMIN, totp=False)
    smtp = SmtpServer(free_port()).start()
    mail = {"EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": str(smtp.port),
            "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": "Lindenhof <news@shop.example>",
            "EHRLICH_INPROCESS_WORKER": "false"}
    try:
        with running_servers(settings.data_dir / "ehrlich.toml", 1, env=mail) as urls:
            yield Site(urls[0], secret, subject, event, f"/preferences/{token}",
                       artefact_dir(tmp_path_factory, "screenshots"), f"/my-data/{my_data}",
                       request_id, copy_id, breach_id)
    finally:
        smtp.stop()


def _check(page: Page, site: Site, name: str, width: str) -> list[str]:
    """axe and reflow on the page as it stands; saves its screenshot (the whole page)."""
    page.screenshot(path=str(site.shots / f"{name}-{width}.png"), full_page=True)
    return axe_violations(page) + reflow_overflow(page) + broken_headers(page)


def _signed_in_state(browser: Browser, site: Site) -> dict[str, Any]:
    context = browser.new_context(base_url=site.base)
    page = context.new_page()
    page.goto("/admin/login")
    page.fill("#email", OWNER)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/login/code")
    page.fill("#code", code_at(site.owner_secret, datetime.now(UTC)))
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/guide")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.base}/admin")
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


@pytest.fixture(scope="module")
def owner_state(browser: Browser, site: Site) -> dict[str, Any]:
    return _signed_in_state(browser, site)


CONSOLE_PAGES = {
    "dashboard": "/admin", "dashboard-de": "/admin?lang=de", "staff": "/admin/staff",
    "account": "/admin/account", "consents": "/admin/consents",
    "consent-history": "/admin/consents?subject={subject}",
    "consent-proof": "/admin/consents/proof/{event}", "mail": "/admin/mail",
    "reauth": "/admin/reauth?next=/admin/staff", "error-404": "/admin/no-such-page",
    "contacts": "/admin/contacts", "contact-person": "/admin/contacts/{subject}",
    "notices": "/admin/notice", "notice-draft": "/admin/notice/draft",
    "notice-embed": "/admin/notice/embed", "notice-branding": "/admin/notice/branding",
    "requests": "/admin/requests", "request-new": "/admin/requests/new",
    "request": "/admin/requests/{request}",
    "imports": "/admin/imports", "audiences": "/admin/audiences", "copies": "/admin/copies",
    "copy": "/admin/copies/{copy}", "recipients": "/admin/recipients",
    "processors": "/admin/processors", "processor": "/admin/processors/mailer",
    "campaigns": "/admin/campaigns", "campaign-new": "/admin/campaigns/new",
    "campaign-reports": "/admin/campaigns/reports",
    "breaches": "/admin/breaches", "breach-new": "/admin/breaches/new",
    "breach": "/admin/breaches/{breach}", "breach-de": "/admin/breaches/{breach}?lang=de",
    "retention": "/admin/retention", "retention-subjects": "/admin/retention?subjects=1",
}
PUBLIC_PAGES = {
    "home": "/", "notice": "/notice", "notice-de": "/notice?lang=de", "signup": "/signup",
    "preferences": "{preferences}", "preferences-proof": "{preferences}/proof/{event}",
    "security": "/security",
    "my-data": "/my-data", "my-data-report": "{my_data}", "my-data-erase": "{my_data}/erase",
}


class Tabs:
    """One page per width, signed in as the owner or not, reused from test to test: a new
    context and page per audited page cost about as much as loading it. Each test starts
    from the context's first cookies (a page may set some, e.g. its language), and
    `load_axe_in_every_page` saves evaluating axe-core per page. `SHOTS`' screenshot on
    load is left out: these tests save each whole page at both widths themselves."""

    def __init__(self, browser: Browser, site: Site, owner_state: dict[str, Any]) -> None:
        self._browser, self._site, self._owner_state = browser, site, owner_state
        self._open: dict[tuple[str, bool], Page] = {}

    def page(self, width: str, *, signed_in: bool) -> Page:
        key = (width, signed_in)
        state = self._owner_state if signed_in else None
        if key not in self._open:
            context = self._browser.new_context(base_url=self._site.base,
                                                viewport=WIDTHS[width], storage_state=state)
            context.remove_listener("page", SHOTS.watch)
            record_csp_violations(context)
            load_axe_in_every_page(context)
            self._open[key] = context.new_page()
        page = self._open[key]
        page.context.clear_cookies()
        if state is not None:
            page.context.add_cookies(state["cookies"])
        return page

    def close(self) -> None:
        for page in self._open.values():
            page.context.close()


@pytest.fixture(scope="module")
def tabs(browser: Browser, site: Site, owner_state: dict[str, Any]) -> Iterator[Tabs]:
    opened = Tabs(browser, site, owner_state)
    yield opened
    opened.close()


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("name", [*CONSOLE_PAGES, *PUBLIC_PAGES])
def test_page_is_accessible_reflows_and_keeps_the_csp(name: str, width: str, site: Site,
                                                     tabs: Tabs) -> None:
    path = {**CONSOLE_PAGES, **PUBLIC_PAGES}[name].format(
        subject=site.subject_id, event=site.event_id, preferences=site.preferences,
        my_data=site.my_data, request=site.request_id, copy=site.copy_id,
        breach=site.breach_id)
    page = tabs.page(width, signed_in=name in CONSOLE_PAGES)
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    try:
        page.goto(path)
        assert not page.url.endswith("/admin/login"), "not signed in"
        violations = csp_violations(page)  # the page's own, before the audit runs
        problems = _check(page, site, name, width)
    finally:
        page.remove_listener("console", on_console)
    assert violations == []
    assert refused == []
    assert problems == []


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_first_sign_in_pages_are_accessible_and_reflow(width: str, site: Site,
                                                       browser: Browser) -> None:
    """Sign-in, enrolment of the second factor, recovery codes and the guide, in order."""
    context = browser.new_context(base_url=site.base, viewport=WIDTHS[width])
    page = context.new_page()
    page.goto("/admin/login")
    problems = _check(page, site, "login", width)
    page.fill("#email", f"new-{width}@example.org")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/enrol")
    problems += _check(page, site, "enrol", width)
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", code_at(secret, datetime.now(UTC)))
    page.click("main button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    problems += _check(page, site, "recovery", width)
    page.click("main a.btn")
    page.wait_for_url("**/admin/guide")
    problems += _check(page, site, "guide", width)
    other = browser.new_context(base_url=site.base, viewport=WIDTHS[width])
    code_page = other.new_page()
    code_page.goto("/admin/login")
    code_page.fill("#email", OWNER)
    code_page.fill("#password", PASSWORD)
    code_page.click("main button[type=submit]")
    code_page.wait_for_url("**/admin/login/code")
    problems += _check(code_page, site, "code", width)
    other.close()
    context.close()
    assert problems == []


def test_the_checks_find_what_they_look_for(browser: Browser) -> None:
    """axe reports a serious violation, the reflow check a page wider than 320 px, and the
    header check a one-word header squeezed onto several lines (but not a visually hidden
    one, nor one that fits)."""
    axe_script()
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    page.set_content('<html lang="en"><body><main><p class="pale">pale text</p>'
                     '<input id="q"><div class="wide">x</div></main></body></html>')
    page.add_style_tag(content=".pale { color: #bbb; } .wide { width: 500px; }")
    found = axe_violations(page)
    overflow = reflow_overflow(page)
    page.set_content('<html lang="en"><body><main><table><tr>'
                     '<th style="width: 2em; overflow-wrap: anywhere">Purpose</th>'
                     '<th>Country</th><th><span class="hidden">Line</span></th>'
                     '</tr></table></main></body></html>')
    page.add_style_tag(content=".hidden { position: absolute; width: 1px; height: 1px;"
                               " overflow: hidden; clip-path: inset(50%); }")
    broken = broken_headers(page)
    context.close()
    assert any(v.startswith("color-contrast (serious)") for v in found), found
    assert any(v.startswith("label (critical)") for v in found), found
    assert overflow[0].startswith("scrolls sideways by")
    assert "div.wide ends at" in overflow[1]
    assert len(broken) == 1, broken
    assert broken[0].startswith('the header "Purpose" is broken across'), broken


def test_axe_loaded_in_every_page_audits_each_new_document(browser: Browser) -> None:
    """The reused pages' axe-core comes with every document (no evaluation per page) and
    audits that document: a violation on the second page is found, not one of the first."""
    axe_script()
    context = browser.new_context(viewport=DESKTOP)
    load_axe_in_every_page(context)
    page = context.new_page()
    page.goto('data:text/html,<html lang="en"><title>Fine</title>'
              '<body><main><h1>Fine</h1></main></body></html>')
    first = axe_violations(page)
    page.goto('data:text/html,<html lang="en"><title>Form</title>'
              '<body><main><input id="q"></main></body></html>')
    loaded = page.evaluate("typeof axe !== 'undefined'")
    second = axe_violations(page)
    context.close()
    assert first == []
    assert loaded
    assert any(v.startswith("label (critical)") for v in second), second
