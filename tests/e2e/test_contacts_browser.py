"""The contacts pages in Debian's Chromium: search → person → reveal → rectify → erase, a
keyboard-only pass (Tab and Enter), no CSP violation, no horizontal scroll at 320 px, and a
screenshot of every page for a person to look at (kept in the test's tmp dir)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from ehrlich.auth.guide import current_guide
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.consent.ledger.service import record_consent
from ehrlich.consent.schemas import ConsentInput, Evidence
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.settings import Settings
from ehrlich.subjects.schemas import SubjectInput
from tests.e2e.browser import audit_accessibility
from tests.e2e.servers import free_port, running_servers
from tests.e2e.test_console_browser import RECORD_VIOLATIONS

pytestmark = pytest.mark.slow
EMAIL = "ada.lovelace@example.org"
KEYBOARD_EMAIL = "grace.hopper@example.org"  # the keyboard pass's own person: Ada is erased
REASON = "she asked us to check her address"


def _instance(tmp_path: Path, port: int) -> tuple[Settings, str, dict[str, str]]:
    """An instance with one admin (signed in: a session token) and a few contacts; returns
    the settings, the token and the ids of Ada and Grace."""
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        base_url=f"http://127.0.0.1:{port}")
    now = datetime.now(UTC)
    init_instance(settings, now=now)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            view, _ = instance.staff.users.add(
                session, email="admin@example.org", role=Role.ADMIN, actor="test",
                actor_role=Role.OWNER, now=now, password="violet-harbour-lantern-917")
            instance.staff.users.acknowledge_guide(
                session, view.id, current_guide(settings.data_dir).hash, now=now)
            token = instance.staff.sessions.create(session, view.id, stage=STAGE_FULL,
                                                   now=now)
            ada = instance.subjects.create(session, SubjectInput(
                email=EMAIL, name="Ada Lovelace", phone="+4915112345612",
                attributes={"city": "London"}, source="fair-2026"),
                actor="test", now=now).subject.id
            grace = instance.subjects.create(session, SubjectInput(
                email=KEYBOARD_EMAIL, name="Grace Hopper"), actor="test", now=now).subject.id
            for n in range(5):
                instance.subjects.create(session, SubjectInput(email=f"p{n}@example.org"),
                                         actor="test", now=now)
            for action, method in (("requested", "form"), ("confirmed", "email-confirmation")):
                record_consent(session, instance.audit, ConsentInput(
                    subject_id=ada, purpose="newsletter", action=action, method=method,
                    notice_version=2, notice_hash="sha256:" + "ab" * 32, language="en",
                    text_shown="Yes, send me the weekly newsletter. I can unsubscribe at "
                               "any time.",
                    evidence=Evidence(ip="203.0.113.7", user_agent="Chromium", sec_gpc="1")),
                    actor="test", now=now)
    finally:
        instance.close()
    return settings, token, {"ada": ada, "grace": grace}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, str]]]:
    """One server for the module's tests (each works on a person of its own): its URL, the
    admin's session token and the people's ids."""
    port = free_port()
    settings, token, people = _instance(tmp_path_factory.mktemp("contacts-browser"), port)
    env = {"EHRLICH_INPROCESS_WORKER": "false", "EHRLICH_PORT": str(port)}
    with running_servers(settings.data_dir / "ehrlich.toml", 1, env=env) as urls:
        yield urls[0], token, people


@pytest.fixture
def site(served: tuple[str, str, dict[str, str]], tmp_path: Path, browser: Browser
         ) -> Iterator[tuple[Page, dict[str, str], Path]]:
    url, token, people = served
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "ehrlich-session", "value": token, "url": url}])
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    yield page, people, tmp_path / "screens"
    assert page.evaluate("window.__cspViolations") == []
    context.close()


def _shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _narrow(page: Page, folder: Path, name: str) -> None:
    """At 320 CSS px the page reflows: no horizontal scroll (WCAG 1.4.10)."""
    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    _shot(page, folder, f"{name}-320")
    assert width <= 320, name
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()


def test_search_person_reveal_rectify_erase(site: tuple[Page, dict[str, str], Path]) -> None:
    page, people, screens = site
    ada = people["ada"]
    page.goto("/admin/contacts")
    assert page.locator("table.contacts tbody tr").count() == 7
    assert EMAIL not in page.content()
    assert audit_accessibility(page)["problems"] == []
    _shot(page, screens, "01-list")
    _narrow(page, screens, "01-list")

    page.fill("#q", "Ada.Lovelace@example.org")
    page.click("form[role=search] button")
    page.wait_for_load_state()  # the answer, loaded: count() does not wait
    assert page.locator("table.contacts tbody tr").count() == 1
    _shot(page, screens, "02-search")
    page.click("table.contacts a")
    page.wait_for_url(f"**/admin/contacts/{ada}")
    assert "a••@example.org" in page.content()
    assert EMAIL not in page.content()
    assert page.locator("table.timeline tbody tr").count() == 2
    assert page.locator("button.copy").first.is_visible()  # the script shows the buttons
    assert audit_accessibility(page)["problems"] == []
    _shot(page, screens, "03-person")
    _narrow(page, screens, "03-person")

    page.fill("#reason", "why")
    page.click("text=Reveal")
    assert page.locator("#reason-error").is_visible()
    page.fill("#reason", REASON)
    page.click("text=Reveal")
    assert EMAIL in page.content()
    assert "London" in page.content()
    _shot(page, screens, "04-revealed")

    page.click("a:has-text('Rectify')")
    page.fill("#email", "p0@example.org")  # another contact has it
    page.fill("#name", "Ada King")
    page.click("text=Save")
    assert page.locator("#email-error").is_visible()
    assert page.input_value("#name") == "Ada King"
    _shot(page, screens, "05-rectify-error")
    page.fill("#email", "")
    page.click("text=Save")
    page.wait_for_url(f"**/admin/contacts/{ada}?done=rectified")
    assert page.locator(".flash.ok").inner_text() == "The changes were saved."
    assert "A•• K••" in page.content()

    page.fill("#note", "Prefers letters to calls")
    page.click("text=Add note")
    assert "Prefers letters to calls" in page.content()

    page.click("a:has-text('Erase')")
    _shot(page, screens, "06-erase")
    page.fill("#reason", "the person asked to be erased")
    page.click("text=Erase for good")
    page.wait_for_url(f"**/admin/contacts/{ada}")
    assert "This contact was erased" in page.content()
    _shot(page, screens, "07-erased")
    page.goto("/admin/contacts")
    assert page.locator("table.contacts tbody tr").count() == 6


def _tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only(site: tuple[Page, dict[str, str], Path]) -> None:
    page, people, screens = site
    grace = people["grace"]
    page.goto("/admin/contacts")
    _tab_to(page, "#q")
    page.keyboard.type(KEYBOARD_EMAIL)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/contacts?q=*")
    _tab_to(page, "table.contacts a")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/contacts/{grace}")
    _tab_to(page, "#reason")
    page.keyboard.type(REASON)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert KEYBOARD_EMAIL in page.content()
    _tab_to(page, "#note")
    page.keyboard.type("Called on Monday")
    page.keyboard.press("Enter")
    page.wait_for_url("**done=note")
    assert "Called on Monday" in page.content()
    _tab_to(page, "a[href$='/rectify']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/rectify")
    _tab_to(page, "#name")
    page.keyboard.type("Grace Murray")
    page.keyboard.press("Enter")
    page.wait_for_url("**done=rectified")
    _shot(page, screens, "08-keyboard")
