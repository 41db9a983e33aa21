"""The console's operations pages in Chromium: an API token created (shown once) and
revoked, the audit log filtered and its chain verified, a backup made from the page, and a
staff member invited, re-roled and their second factor reset after re-authentication.
Screenshots of each page (desktop and 320 px wide) go to the test's temporary directory."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import update

from ehrlich.auth.models import StaffSession
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.auth.totp import code_at
from ehrlich.domains import open_instance
from ehrlich.settings import Settings
from tests.e2e.servers import free_port, running_servers
from tests.e2e.test_console_browser import RECORD_VIOLATIONS
from tests.instances import InstanceTemplates

pytestmark = pytest.mark.slow

OWNER, PASSWORD = "owner@example.org", "violet-harbour-lantern-917"
HELPER = "helper@example.org"


WIDE_ELEMENTS = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 321 && !e.closest('.table-wrap'))
  .slice(0, 5).map(e => e.tagName + '.' + e.className)"""


def _shots(tmp_path: Path) -> Path:
    """EHRLICH_SCREENSHOTS names a directory to keep them (CI artefacts); else tmp_path."""
    folder = Path(os.environ.get("EHRLICH_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


SCREENSHOT_MS = 120_000  # a full page on a loaded 2-core machine took over 30 s (the default)


def _snap(page: Page, folder: Path, name: str) -> None:
    """The page at 1280 px, and the same document in a 320 px page, each screenshotted;
    at 320 px nothing may stick out sideways. (Resizing an open page did not always lay it
    out again in this Chromium, and the page may be the answer to a form, which a second
    load would not show: the narrow page gets the document itself, on the same origin so
    its stylesheets load.)"""
    page.screenshot(path=folder / f"{name}.png", full_page=True, timeout=SCREENSHOT_MS)
    browser = page.context.browser
    assert browser is not None
    narrow = browser.new_page(viewport={"width": 320, "height": 800})
    try:
        narrow.goto(page.url.split("/admin", 1)[0] + "/security")
        narrow.set_content(page.content())
        narrow.screenshot(path=folder / f"{name}-320.png", full_page=True,
                          timeout=SCREENSHOT_MS)
        wide = narrow.evaluate(WIDE_ELEMENTS)
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 320, (name, wide)
    finally:
        narrow.close()


def _prepare(settings: Settings, now: datetime) -> None:
    """The owner signs in for the first time; a helper already has an authenticator app."""
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            instance.staff.users.add(session, email=OWNER, role=Role.OWNER, actor="test",
                                     actor_role=Role.OWNER, now=now, password=PASSWORD)
            helper, _ = instance.staff.users.add(session, email=HELPER, role=Role.SUPPORT,
                                                 actor="test", actor_role=Role.OWNER,
                                                 now=now, password=PASSWORD)
            token = instance.staff.sessions.create(session, helper.id, stage=STAGE_FULL,
                                                   now=now)
            row = instance.staff.sessions.row(session, token)
            assert isinstance(row, StaffSession)
            secret = instance.staff.users.begin_enrolment(session, helper.id, row).secret
            instance.staff.users.confirm_enrolment(session, helper.id, row,
                                                   code_at(secret, now), now=now)
            instance.staff.sessions.end(session, token)
    finally:
        instance.close()


def _age_sessions(settings: Settings, minutes: int) -> None:
    """As if the last password confirmation was `minutes` ago."""
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            session.execute(update(StaffSession).values(
                authenticated_at=datetime.now(UTC) - timedelta(minutes=minutes)))
    finally:
        instance.close()


def _sign_in(page: Page) -> list[str]:
    page.goto("/admin/login")
    page.fill("#email", OWNER)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/enrol")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", code_at(secret, datetime.now(UTC)))
    page.click("main button[type=submit]")
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    page.click("text=Continue")
    page.wait_for_url("**/admin/guide")
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin")
    return codes


def test_operations_pages_main_flows(tmp_path: Path, browser: Browser,
                                     instance_templates: InstanceTemplates) -> None:
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        base_url=f"http://127.0.0.1:{port}")
    instance_templates.install(settings)
    _prepare(settings, datetime.now(UTC))
    shots = _shots(tmp_path)
    env = {"EHRLICH_INPROCESS_WORKER": "true", "EHRLICH_PORT": str(port),
           "EHRLICH_BACKUP_DESTINATION": str(tmp_path / "backups")}
    with running_servers(settings.data_dir / "ehrlich.toml", 1, env=env) as urls:
        page = browser.new_page(base_url=urls[0], viewport={"width": 1280, "height": 900})
        page.add_init_script(RECORD_VIOLATIONS)
        recovery = _sign_in(page)

        # API token: created, shown once, revoked after a confirmation
        page.goto("/admin/tokens")
        page.fill("#name", "shop integration")
        page.check("input[value='audit:read']")
        page.click("main form[action='/admin/tokens'] button[type=submit]")
        token = page.inner_text("#new-token").strip()
        assert token.startswith("ehr_")
        _snap(page, shots, "tokens-created")
        page.goto("/admin/tokens")
        assert token not in page.content()
        page.click("a.btn.danger")
        _snap(page, shots, "tokens-revoke-confirm")
        page.click("main button.btn.danger")
        page.wait_for_url("**/admin/tokens")
        assert page.locator("tr", has_text="shop integration").locator(
            ".badge.muted", has_text="revoked").count() == 1
        _snap(page, shots, "tokens")

        # Audit log: filtered by action, then the chain verified
        page.goto("/admin/audit")
        page.fill("#f-action", "api_token.revoke")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()  # the answer to the form, loaded: count() does not wait
        assert page.locator("table.data tbody tr").count() == 1
        _snap(page, shots, "audit-filtered")
        page.click("text=Verify the chain")
        assert "The chain is intact" in page.inner_text("#chain-result")
        assert ":" in page.inner_text("#anchor")
        _snap(page, shots, "audit-verified")

        # Backups: made now by the worker, then listed as verified
        page.goto("/admin/backups")
        page.click("text=Back up now")
        assert "A backup was queued" in page.inner_text(".flash")
        for _ in range(60):
            page.goto("/admin/backups")
            if page.locator("table.data .badge.ok", has_text="verified").count():
                break
            page.wait_for_timeout(1000)
        assert page.locator("table.data .badge.ok", has_text="verified").count() == 1
        _snap(page, shots, "backups")

        # Staff: invite, change the role, reset a second factor after re-authentication
        page.goto("/admin/staff")
        page.fill("#email", "new@example.org")
        page.select_option("#role", "support")
        page.click("main form[action='/admin/staff'] button[type=submit]")
        assert len(page.inner_text("#new-password").strip()) > 20
        _snap(page, shots, "staff-invited")
        row = page.locator("tr", has_text="new@example.org")
        row.locator("select").select_option("marketer")
        row.locator("text=Change role").click()
        page.wait_for_url("**/admin/staff")
        assert page.locator("tr", has_text="new@example.org").locator(
            "select").input_value() == "marketer"
        _age_sessions(settings, minutes=11)
        page.locator("tr", has_text=HELPER).locator("text=Reset second factor").click()
        page.wait_for_url("**/admin/reauth?next=/admin/staff")
        _snap(page, shots, "staff-reauth")
        page.fill("#password", PASSWORD)
        page.fill("#code", recovery[0])
        page.click("main button[type=submit]")
        page.wait_for_url("**/admin/staff")
        page.locator("tr", has_text=HELPER).locator("text=Reset second factor").click()
        page.wait_for_load_state()
        assert page.locator("#new-password").count() == 1
        assert page.locator("tr", has_text=HELPER).locator(".badge.warn").count() == 1
        _snap(page, shots, "staff-reset")

        page.goto("/admin/settings")
        assert page.locator("#setting-smtp_password .masked").count() == 1
        _snap(page, shots, "settings")

        assert page.evaluate("window.__cspViolations") == []
