"""The notice console in Debian's Chromium against a real `ehrlich serve`: edit the draft,
check it (findings beside their lines), preview it in English and German, publish it after
the renewal impact, brand the public pages; and the signup snippet copied from the console,
served from another origin on loopback, submitted for real (mail to a loopback SMTP
server), refused from an origin that is not listed. No CSP violation on the way.

Screenshots go to $EHRLICH_SCREENSHOTS when set, else to the test's tmp dir."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from ehrlich.auth.roles import Role
from ehrlich.auth.totp import code_at
from ehrlich.domains import open_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.e2e.servers import free_port, running_servers
from tests.e2e.test_signup_browser import mail_to
from tests.factories import new_subject, record
from tests.instances import InstanceTemplates
from tests.mail.smtp_server import SmtpServer
from tests.notices.conftest import own_business
from tests.notices.test_branding import png

pytestmark = pytest.mark.slow

ADMIN, PASSWORD = "admin@example.org", "violet-harbour-lantern-917"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("EHRLICH_SCREENSHOTS") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """Another website on loopback (another port: another origin) serving static files."""
    root = tmp_path / "shop"
    root.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], root
    server.shutdown()
    server.server_close()


def _instance(tmp_path: Path, port: int, templates: InstanceTemplates) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        base_url=f"http://127.0.0.1:{port}")
    templates.install(settings)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            instance.staff.users.add(session, email=ADMIN, role=Role.ADMIN, actor="test",
                                     actor_role=Role.OWNER, now=NOW, password=PASSWORD)
            instance.notices.publish(session, example_notice_text(), file="notice.yaml",
                                     publisher="test", now=NOW)
        for i in range(3):
            record(instance, new_subject(instance, f"reader{i}@example.org"), "granted")
    finally:
        instance.close()
    return settings


def _sign_in(page: Page) -> None:
    page.goto("/admin/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/enrol")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", code_at(secret, datetime.now(UTC)))
    page.click("main button[type=submit]")
    page.click("text=Continue")
    page.wait_for_url("**/admin/guide")
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin")


def _acknowledge_guide(page: Page) -> None:
    """The guide quotes the notice, so a new version asks for it to be read again."""
    page.goto("/admin/guide")
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin")


def _shoot(page: Page, shots: Path, name: str, *, reflow: bool = True) -> None:
    """Screenshots at desktop width and at 320 px; the console pages' content must reflow
    (the public notice page's tables do not yet: that page is checked elsewhere)."""
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})
    page.screenshot(path=str(shots / f"{name}-320.png"), full_page=True)
    # The page's own content reflows at 320 px (the console's header is the shared layout's).
    wide = page.evaluate("""[...document.querySelectorAll('main *')].filter(
        e => e.getBoundingClientRect().right > 321).slice(0, 5).map(
        e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert wide == [] or not reflow, (name, wide)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_edit_check_preview_publish_brand_and_embed(
        tmp_path: Path, browser: Browser, smtp: SmtpServer, shop: tuple[int, Path],
        shots: Path, instance_templates: InstanceTemplates) -> None:
    port, (shop_port, shop_root) = free_port(), shop
    settings = _instance(tmp_path, port, instance_templates)
    shop_origin = f"http://127.0.0.1:{shop_port}"
    env = {"EHRLICH_INPROCESS_WORKER": "true", "EHRLICH_BASE_URL": f"http://127.0.0.1:{port}",
           "EHRLICH_SIGNUP_ORIGINS": shop_origin,
           "EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": str(smtp.port),
           "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": "Lindenhof <news@shop.example>"}
    with running_servers(settings.data_dir / "ehrlich.toml", 1, env=env,
                         ports=[port]) as urls:
        page = browser.new_page(base_url=urls[0], viewport={"width": 1280, "height": 900})
        page.add_init_script(RECORD_VIOLATIONS)
        messages: list[str] = []  # every page's CSP reports land in the console
        page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
        _sign_in(page)

        # Edit: a preselected box is an error, shown beside its line.
        page.goto("/admin/notice/draft")
        text = own_business(example_notice_text())
        page.fill("#source", text.replace("default: unticked", "default: ticked", 1))
        page.click("text=Save and check")
        bad_line = next(i for i, line in enumerate(
            text.replace("default: unticked", "default: ticked", 1).splitlines(), 1)
            if "default: ticked" in line)
        row = page.locator(f"tr#L{bad_line}")
        assert "has-finding" in (row.get_attribute("class") or "")
        assert "error" in row.inner_text()
        page.click(f'ul.findings a[href="#L{bad_line}"]')
        assert page.evaluate("location.hash") == f"#L{bad_line}"
        _shoot(page, shots, "notice-draft-findings")

        # Fix it and widen the newsletter: longer retention.
        page.fill("#source", text.replace("duration: 2 years", "duration: 3 years", 1))
        page.click("text=Save and check")
        assert "The check found nothing to fix." in page.inner_text("main")
        page.click("text=Preview in English")
        assert "Preview of the draft: not published" in page.inner_text(".preview-banner")
        assert "3 years" in page.inner_text("main")
        _shoot(page, shots, "notice-preview-en", reflow=False)
        page.goto("/admin/notice/draft/preview?lang=de")
        assert "3 Jahre" in page.inner_text("main")
        _shoot(page, shots, "notice-preview-de", reflow=False)

        # Publish: the impact first, then the confirmation.
        page.goto("/admin/notice/draft")
        page.click("text=Publish…")
        impact = page.inner_text("main")
        assert "Publishing creates version 2." in impact
        assert "3 people's consent will need renewal" in impact
        _shoot(page, shots, "notice-publish-impact")
        page.click("text=Publish version 2")
        assert "Version 2 is published. 3 people's consent was marked for renewal." in (
            page.inner_text("main"))
        _shoot(page, shots, "notice-versions")
        _acknowledge_guide(page)
        page.goto("/admin/notice/v/2/diff")
        assert "+    duration: 3 years" in page.inner_text("pre.diff")
        _shoot(page, shots, "notice-diff")

        # Branding: a low-contrast colour is refused beside its field, then saved.
        page.goto("/admin/notice/branding")
        page.fill("#brand-name", "Radhaus Linden")
        page.fill("#brand-contact", "Lindenstraße 12, Berlin · hallo@radhaus.example")
        page.fill("#brand-accent", "#ffd700")
        page.click("main button[type=submit]")
        assert "contrast" in page.inner_text("#brand-accent-error")
        assert page.input_value("#brand-name") == "Radhaus Linden"
        _shoot(page, shots, "notice-branding-error")
        page.fill("#brand-accent", "#8a1c1c")
        (tmp_path / "logo.png").write_bytes(png(32, 32))
        page.set_input_files("#brand-logo", str(tmp_path / "logo.png"))
        page.click("main button[type=submit]")
        assert "Branding saved." in page.inner_text("main")
        page.goto("/notice")
        assert page.inner_text("header .brand") == "Radhaus Linden"
        assert page.evaluate("getComputedStyle(document.querySelector('main a')).color"
                             ) == "rgb(138, 28, 28)"
        assert page.evaluate("document.querySelector('header img.logo').naturalWidth") == 32
        _shoot(page, shots, "public-notice-branded", reflow=False)

        # The snippet, as copied from the console.
        page.goto("/admin/notice/embed")
        assert page.locator("button.copy").first.inner_text() == "Copy"
        _shoot(page, shots, "notice-embed")
        form_snippet = page.input_value("#snippet-form")
        iframe_snippet = page.input_value("#snippet-iframe")
        assert _violations(page) == []
        assert [m for m in messages if "Content Security Policy" in m or "Refused to" in m
                ] == []

        shop_page = "<!doctype html><html lang=en><title>Shop</title><h1>Our shop</h1>"
        (shop_root / "form.html").write_text(shop_page + form_snippet, encoding="utf-8")
        (shop_root / "frame.html").write_text(shop_page + iframe_snippet, encoding="utf-8")
        visitor = browser.new_page()
        visitor.goto(f"{shop_origin}/form.html")
        visitor.fill("#ehrlich-email", "shop-visitor@example.org")
        visitor.check("#ehrlich-purpose-newsletter")
        with visitor.expect_navigation():
            visitor.click("button[type=submit]")
        assert visitor.url == f"{urls[0]}/signup", (visitor.url, visitor.content()[:3000])
        assert "Please check your mail" in visitor.inner_text("main")
        assert mail_to(smtp, "shop-visitor@example.org")["Subject"]
        visitor.screenshot(path=str(shots / "embed-form-sent.png"), full_page=True)

        # The same form from an origin that is not listed is refused (localhost ≠ 127.0.0.1).
        stranger = browser.new_page()
        stranger.goto(f"http://localhost:{shop_port}/form.html")
        stranger.fill("#ehrlich-email", "stranger@example.org")
        stranger.check("#ehrlich-purpose-newsletter")
        stranger.click("button[type=submit]")
        stranger.wait_for_url(f"{urls[0]}/signup")
        assert "This form may not be sent from that site." in stranger.inner_text("main")

        framed = browser.new_page()
        framed.goto(f"{shop_origin}/frame.html")
        frame = framed.frame_locator("iframe")
        frame.locator("#email").fill("framed@example.org")
        frame.locator("#purpose-newsletter").check()
        frame.locator("button[type=submit]").first.click()
        assert mail_to(smtp, "framed@example.org")["Subject"]
        framed.screenshot(path=str(shots / "embed-iframe-sent.png"), full_page=True)
        assert not any(r.rcpt_tos == ["stranger@example.org"] for r in smtp.received)


def _violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations")
    return found
