"""The Audiences and Copies pages in Debian's Chromium: export an audience (an error next to
its field first), download the CSV, find it in the copies register and mark it destroyed;
no CSP violation, nothing scrolls sideways at 320 px, a screenshot of every step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from ehrlich.admin.deps import guide_of
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings
from tests.e2e.browser import audit_accessibility
from tests.e2e.servers import free_port, running_servers
from tests.e2e.test_console_browser import RECORD_VIOLATIONS
from tests.factories import new_subject, record

pytestmark = pytest.mark.slow
REASON = "December mailing from the mail tool"


def _instance(tmp_path: Path, port: int) -> tuple[Settings, str]:
    """An instance with a published notice, a marketer (signed in: a session token) and
    three people in the newsletter audience, one with an address a spreadsheet would run."""
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        base_url=f"http://127.0.0.1:{port}")
    now = datetime.now(UTC)
    init_instance(settings, now=now)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            number = instance.notices.publish(session, example_notice_text(),
                                              file="notice.yaml", publisher="test",
                                              now=now).version.number
        for email in ("ada@example.org", "=cmd@example.org", "jürgen@example.org"):
            record(instance, new_subject(instance, email), "granted", notice_version=number)
        with instance.db.write() as session:
            view, _ = instance.staff.users.add(
                session, email="marketer@example.org", role=Role.MARKETER, actor="test",
                actor_role=Role.OWNER, now=now, password="violet-harbour-lantern-917")
            instance.staff.users.acknowledge_guide(session, view.id,
                                                   guide_of(instance).hash, now=now)
            token = instance.staff.sessions.create(session, view.id, stage=STAGE_FULL,
                                                   now=now)
    finally:
        instance.close()
    return settings, token


@pytest.fixture
def site(tmp_path: Path, browser: Browser) -> Iterator[tuple[Page, Path]]:
    port = free_port()
    settings, token = _instance(tmp_path, port)
    env = {"EHRLICH_INPROCESS_WORKER": "false", "EHRLICH_PORT": str(port)}
    with running_servers(settings.data_dir / "ehrlich.toml", 1, env=env) as urls:
        context = browser.new_context(base_url=urls[0], accept_downloads=True,
                                      viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "ehrlich-session", "value": token, "url": urls[0]}])
        page = context.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        yield page, tmp_path / "screens"
        assert page.evaluate("window.__cspViolations") == []
        context.close()


def _shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _narrow(page: Page, folder: Path, name: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    _shot(page, folder, f"{name}-320")
    assert width <= 320, name
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()


def test_export_an_audience_then_mark_the_copy_destroyed(
        site: tuple[Page, Path], tmp_path: Path) -> None:
    page, screens = site
    page.goto("/admin")
    page.click("nav a[href='/admin/audiences']")
    page.wait_for_url("**/admin/audiences")
    assert "3" in page.locator("#audiences tbody tr", has_text="newsletter").inner_text()
    assert audit_accessibility(page)["problems"] == []
    _shot(page, screens, "01-audiences")
    _narrow(page, screens, "01-audiences")

    page.fill("#reason", "mailing")
    page.fill("#destination", "Mail tool upload")
    page.click("form[action='/admin/audiences/export'] button")
    assert page.locator("#reason-error").is_visible()
    assert page.input_value("#destination") == "Mail tool upload"
    _shot(page, screens, "02-export-error")

    page.select_option("#audience", "newsletter/email")
    page.fill("#reason", REASON)
    with page.expect_download() as waiting:
        page.click("form[action='/admin/audiences/export'] button")
    download = waiting.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,email,unsubscribe_url,preferences_url\r\n")
    assert b",'=cmd@example.org," in data
    assert "jürgen@example.org".encode() in data
    assert data.count(b"\r\n") == 4

    page.goto("/admin/copies")
    row = page.locator("#copies tbody tr")
    assert row.count() == 1
    assert "newsletter/email" in row.inner_text()
    assert audit_accessibility(page)["problems"] == []
    _shot(page, screens, "03-copies")
    _narrow(page, screens, "03-copies")
    row.locator("a").click()
    page.wait_for_url("**/admin/copies/*")
    assert REASON in page.content()
    _shot(page, screens, "04-copy")
    page.fill("#note", "deleted after the upload")
    page.click("button:has-text('Mark destroyed')")
    page.wait_for_url("**done=destroyed")
    assert page.locator(".flash.ok").inner_text() == "The copy is recorded as destroyed."
    assert "deleted after the upload" in page.content()
    _shot(page, screens, "05-destroyed")
    page.goto("/admin/copies?status=destroyed")
    assert page.locator("#copies tbody tr").count() == 1
