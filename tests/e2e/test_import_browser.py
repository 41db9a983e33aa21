"""The Import pages in Chromium, with the keyboard only: upload a list, choose columns,
map the evidence, confirm, watch the progress bar move and read the report. Not one
Content-Security-Policy violation; a screenshot of every page at desktop width and at
320 px goes to the test's directory (never committed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from ehrlich.auth.models import StaffSession
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.auth.totp import code_at
from ehrlich.domains import open_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings
from tests.e2e.servers import running_servers
from tests.e2e.test_console_browser import RECORD_VIOLATIONS
from tests.imports.sample import make_sample
from tests.instances import InstanceTemplates

pytestmark = pytest.mark.slow

EMAIL, PASSWORD = "marketing@example.org", "violet-harbour-lantern-917"


def _marketer(settings: Settings, templates: InstanceTemplates) -> str:
    """An instance with a published notice and a marketer past enrolment; returns the
    marketer's TOTP secret."""
    now = datetime.now(UTC)
    templates.install(settings)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            instance.notices.publish(session, example_notice_text(), file="notice.yaml",
                                     publisher="test", now=now)
            view, _ = instance.staff.users.add(session, email=EMAIL, role=Role.MARKETER,
                                               actor="test", actor_role=Role.OWNER, now=now,
                                               password=PASSWORD)
            token = instance.staff.sessions.create(session, view.id, stage=STAGE_FULL, now=now)
            row = instance.staff.sessions.row(session, token)
            assert isinstance(row, StaffSession)
            secret = instance.staff.users.begin_enrolment(session, view.id, row).secret
            earlier = now - timedelta(minutes=5)
            instance.staff.users.confirm_enrolment(session, view.id, row,
                                                   code_at(secret, earlier), now=earlier)
            instance.staff.sessions.end(session, token)
    finally:
        instance.close()
    return secret


def _shots(page: Page, folder: Path, name: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=folder / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 320, "height": 700})
    page.screenshot(path=folder / f"{name}-320.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not overflow, f"{name} scrolls sideways at 320 px"


def _press(page: Page, key: str, times: int = 1) -> None:
    for _ in range(times):
        page.keyboard.press(key)


def _tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Tab forward until `selector` has the focus, as a keyboard user would."""
    target = page.locator(selector)
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_import_with_the_keyboard_only(tmp_path: Path, browser: Browser,
                                       instance_templates: InstanceTemplates) -> None:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        base_url="http://127.0.0.1")
    secret = _marketer(settings, instance_templates)
    sample = make_sample(3000)
    (tmp_path / "list.csv").write_bytes(sample.raw)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with running_servers(settings.data_dir / "ehrlich.toml", 1,
                         env={"EHRLICH_INPROCESS_WORKER": "true"}) as urls:
        page = browser.new_page(base_url=urls[0])
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto("/admin/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/admin/login/code")
        page.fill("#code", code_at(secret, datetime.now(UTC)))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if page.url.endswith("/admin/guide"):  # read it: the server's copy of the guide
            _tab_to(page, "main button[type=submit]")
            with page.expect_navigation():
                page.keyboard.press("Enter")

        page.goto("/admin")
        _tab_to(page, 'nav a[href="/admin/imports"]')
        with page.expect_navigation():
            page.keyboard.press("Enter")
        _shots(page, shots, "1-upload")
        _tab_to(page, "#file")
        page.set_input_files("#file", tmp_path / "list.csv")  # the file dialog is the OS's
        _tab_to(page, "main button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        assert "Read as UTF-8 with “;” between columns: 3000 rows." in page.content()
        assert page.locator("#map-email").input_value() == "E-Mail"  # guessed
        _shots(page, shots, "2-columns")
        _tab_to(page, "#map-name")
        page.keyboard.type("Name")  # a select picks the option typed
        _tab_to(page, 'input[name=attributes][value="Kundennummer"]')
        page.keyboard.press("Space")
        _tab_to(page, "main form.card button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        _tab_to(page, "#source")
        page.keyboard.type("Old shop list")
        _tab_to(page, "#source-column")
        page.keyboard.type("Opt-in-Q")
        _tab_to(page, "#date-column")
        page.keyboard.type("Opt-in-D")
        _shots(page, shots, "3-evidence")
        _tab_to(page, "main form.card button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        page.wait_for_url("**/confirm")
        assert "150 rows will be rejected" in page.content()
        _shots(page, shots, "4-confirm")
        _tab_to(page, "main form button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        page.wait_for_selector("#import-status:text('done')", timeout=240_000)
        assert page.locator("#import-bar").get_attribute("value") == "3000"
        assert page.locator('[data-count="created"]').inner_text() == str(sample.created + 60)
        assert page.locator('[data-count="rejected"]').inner_text() == "150"
        _shots(page, shots, "5-done")
        _tab_to(page, "a[download]")
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        report = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
        assert report[0] == "row,column,reason"
        assert len(report) == 151
        assert page.evaluate("window.__cspViolations") == []
