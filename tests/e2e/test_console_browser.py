"""The console in Debian's Chromium: sign-in with CAPTCHA escalation, TOTP enrolment,
guide acknowledgement, and not one Content-Security-Policy violation on the way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from ehrlich.auth.roles import Role
from ehrlich.auth.totp import code_at
from ehrlich.domains import open_instance
from ehrlich.settings import Settings
from tests.e2e.servers import free_port, running_servers
from tests.instances import InstanceTemplates

pytestmark = pytest.mark.slow

ADMIN, PASSWORD = "admin@example.org", "violet-harbour-lantern-917"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def _violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations")
    return found


def test_sign_in_with_captcha_and_totp_enrolment(tmp_path: Path, browser: Browser,
                                                 instance_templates: InstanceTemplates) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        base_url=base)
    now = datetime.now(UTC)
    instance_templates.install(settings)
    instance = open_instance(settings)
    with instance.db.write() as session:
        instance.staff.users.add(session, email=ADMIN, role=Role.ADMIN, actor="test",
                                 actor_role=Role.OWNER, now=now, password=PASSWORD)
    instance.close()

    env = {"EHRLICH_INPROCESS_WORKER": "false", "EHRLICH_CAPTCHA_BASE_NUMBER": "300",
           "EHRLICH_PORT": str(port)}
    console_messages: list[str] = []
    with running_servers(settings.data_dir / "ehrlich.toml", 1, env=env) as urls:
        page = browser.new_page(base_url=urls[0])
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda m: console_messages.append(f"{m.type}: {m.text}"))

        # Signed out there is no navigation: the page takes the whole row, not the
        # navigation's narrow column (the sign-in and enrolment boxes were 240 px wide).
        page.goto("/admin/login")
        main = page.locator("main").bounding_box()
        assert main is not None
        assert main["width"] > 600, main
        for attempt in range(4):
            page.goto("/admin/login")
            page.fill("#email", ADMIN)
            page.fill("#password", f"wrong-{attempt}")
            with page.expect_navigation():
                page.click("main button[type=submit]")
        assert page.locator("[data-altcha-challenge]").count() == 1, page.content()
        page.wait_for_selector("[data-altcha-state=solved]", timeout=60_000)
        assert page.locator("main button[type=submit]").is_enabled()
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")

        page.wait_for_url("**/admin/enrol")
        assert page.locator("figure.qr svg").count() == 1
        card = page.locator("main .card").first.bounding_box()
        assert card is not None
        assert card["width"] > 400, card
        secret = page.inner_text("#totp-secret").strip()
        page.fill("#code", code_at(secret, datetime.now(UTC)))
        page.click("main button[type=submit]")
        page.wait_for_load_state()  # the answer, loaded: count() does not wait
        assert page.locator("#recovery-codes li").count() == 10

        page.click("text=Continue")
        page.wait_for_url("**/admin/guide")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{urls[0]}/admin")
        assert "Protection report" in page.content()
        page.set_viewport_size({"width": 1024, "height": 800})  # the narrowest sidebar
        page.goto("/admin/breaches?lang=de")  # the longest German word, as the current page
        heights = page.evaluate("""[...document.querySelectorAll('.console-nav a')]
            .map(a => [a.innerText.trim(), a.getBoundingClientRect().height])""")
        one_line = min(height for _, height in heights)
        broken = [label for label, height in heights if " " not in label and height > one_line]
        assert broken == [], "a one-word label is broken across lines"
        assert not page.locator(".console-menu > summary").is_visible()  # no menu button
        phone = browser.new_context(base_url=urls[0], viewport={"width": 390, "height": 800},
                                    storage_state=page.context.storage_state())
        small = phone.new_page()  # a phone loads the page: the page comes first
        small.goto("/admin/breaches?lang=de")
        menu = small.locator(".console-menu > summary")
        assert menu.inner_text() == "Menü: Datenschutzverletzungen"
        assert menu.is_visible()
        assert not small.locator(".console-nav a[href='/admin/staff']").is_visible()
        assert small.locator("h1").bounding_box()["y"] < 300  # type: ignore[index]
        menu.click()
        assert small.locator(".console-nav a[href='/admin/staff']").is_visible()
        phone.close()
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto("/admin/staff?lang=de")
        assert page.locator("h1").inner_text() == "Team"

        assert _violations(page) == []
        csp_console = [m for m in console_messages
                       if "Content Security Policy" in m or "Refused to" in m]
        assert csp_console == []
