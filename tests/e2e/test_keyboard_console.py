"""Every console page with the keyboard only, in Chromium: the skip link first, then each
page's main flow with Tab, Shift+Tab, Enter and Space (and typing into fields). On every
page each control is reached by Tab and shows a visible focus ring when it is; no CSP
violation on the way. Screenshots of each page go to the test's artefact directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from ehrlich.settings import Settings
from tests.e2e.browser import artefact_dir
from tests.e2e.servers import free_port, running_servers
from tests.e2e.test_console_browser import RECORD_VIOLATIONS
from tests.e2e.test_operations_browser import PASSWORD, _prepare, _sign_in
from tests.instances import InstanceTemplates

pytestmark = pytest.mark.slow

MAX_TABS = 250
# Every control a keyboard user must reach: visible, enabled, not taken out of the tab
# order. A radio group is one stop (arrow keys move inside it). Each gets `data-kbd`.
MARK_CONTROLS = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
    + ' [tabindex]:not([tabindex="-1"])';
  const keys = [];
  const seen = new Set();
  document.querySelectorAll(selector).forEach((e, n) => {
    if (e.disabled || e.closest('[hidden], [inert]')) return;
    // what a closed disclosure hides (the browser skips its content) is not a stop; the
    // console's menu is a closed details that wide screens show all the same
    if (e.tagName !== 'SUMMARY' && !e.checkVisibility({visibilityProperty: true})) return;
    if (!e.getClientRects().length) return;
    let key = 'c' + n;
    if (e.type === 'radio') key = 'radio:' + e.name;
    e.dataset.kbd = key;
    if (!seen.has(key)) { seen.add(key); keys.push(key); }
  });
  return keys;
}"""
FOCUSED = """async (selector) => {
  const measure = () => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return null;
    const s = getComputedStyle(e);
    const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
      || (s.boxShadow && s.boxShadow !== 'none');
    const r = e.getBoundingClientRect();
    const seen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
      && r.top < innerHeight && r.left < innerWidth;
    const name = (e.getAttribute('aria-label') || e.innerText || e.value || e.id || e.name
                  || '').trim().slice(0, 40);
    return {key: e.dataset.kbd || null, tag: e.tagName, name, ring, seen,
            inMain: !!e.closest('main'), matches: !!selector && e.matches(selector)};
  };
  const found = measure();
  if (!found || found.seen) return found;
  // out of view: measure again once the browser's own scrolling of the focused control
  // into view has been painted
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  return measure();
}"""


def _focused(page: Page, selector: str | None = None) -> dict[str, Any] | None:
    found: dict[str, Any] | None = page.evaluate(FOCUSED, selector)
    return found


def _tab(page: Page, key: str = "Tab", selector: str | None = None) -> dict[str, Any] | None:
    """Press Tab (or Shift+Tab); the focused control must show a focus ring in view.
    With `selector`, the result's `matches` says whether the focused control matches it."""
    page.keyboard.press(key)
    found = _focused(page, selector)
    if found is not None:
        assert found["ring"], f"{page.url}: no visible focus on {found}"
        assert found["seen"], f"{page.url}: the focused control is out of view: {found}"
    return found


def _tab_to(page: Page, selector: str) -> None:
    """Tab forward until `selector` has the focus, as a keyboard user would."""
    for _ in range(MAX_TABS):
        found = _tab(page, selector=selector)
        if found is not None and found["matches"]:
            return
    raise AssertionError(f"{page.url}: {selector} is not reached by Tab")


def _every_control_reachable(page: Page) -> None:
    """Tab once round the whole page (past its end focus leaves the document, then starts
    again at the top): each control is reached."""
    wanted = page.evaluate(MARK_CONTROLS)
    assert len(wanted) > 10, wanted  # at least the bar and the navigation
    # the order is the document's: no positive tabindex jumps ahead of it
    assert page.locator("[tabindex]:not([tabindex='0']):not([tabindex^='-'])").count() == 0
    reached: list[str] = []
    left = 0
    for _ in range(MAX_TABS):
        found = _tab(page)
        if found is None:
            left += 1
            if left == 2:
                break
            continue
        if found["key"] in reached:
            break  # round again
        if found["key"]:
            reached.append(found["key"])
    missing = page.evaluate("keys => keys.map(k => { const e = document.querySelector("
                            "`[data-kbd='${k}']`); return e.tagName + ' ' + "
                            "(e.innerText || e.id || e.name || '').trim().slice(0, 40); })",
                            [k for k in wanted if k not in reached])
    assert not missing, f"{page.url}: not reached by Tab: {missing}"


def _open(page: Page, path: str, shots: Path, name: str) -> None:
    """Follow the console navigation's link to `path` with Tab and Enter."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); "
                  "window.scrollTo(0, 0); }")
    _tab_to(page, f"nav.console-nav a[href='{path}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{path}")
    _every_control_reachable(page)
    page.screenshot(path=shots / f"{name}.png", full_page=True)


def test_every_console_page_with_the_keyboard_only(
        tmp_path: Path, browser: Browser, instance_templates: InstanceTemplates,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        base_url=f"http://127.0.0.1:{port}")
    instance_templates.install(settings)
    _prepare(settings, datetime.now(UTC))
    shots = artefact_dir(tmp_path_factory, "keyboard-console")
    env = {"EHRLICH_INPROCESS_WORKER": "true", "EHRLICH_PORT": str(port),
           "EHRLICH_BACKUP_DESTINATION": str(tmp_path / "backups")}
    with running_servers(settings.data_dir / "ehrlich.toml", 1, env=env) as urls:
        page = browser.new_page(base_url=urls[0], viewport={"width": 1280, "height": 900})
        page.add_init_script(RECORD_VIOLATIONS)
        _sign_in(page)  # signing in has keyboard tests of its own

        # Overview: the skip link comes first and leads into the page's content
        page.goto("/admin")
        first = _tab(page)
        assert first is not None
        assert "Skip to content" in first["name"]
        page.keyboard.press("Enter")
        after = _tab(page)
        assert after is not None
        assert after["inMain"], after
        _every_control_reachable(page)
        page.screenshot(path=shots / "overview.png", full_page=True)

        # Notice: from the published versions to the draft, checked by its button
        _open(page, "/admin/notice", shots, "notice")
        _tab_to(page, "main a[href='/admin/notice/draft']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/admin/notice/draft")
        _tab_to(page, "#source")
        _tab_to(page, "form.draft-editor button[type=submit]")
        # the check answers with a new page: wait for it, not for the old one's load state
        # (already reached, so the audit below could start on a page being replaced)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("main").inner_text()
        _every_control_reachable(page)
        page.screenshot(path=shots / "notice-draft.png", full_page=True)

        # API tokens: named, one scope ticked with Space, created with Enter
        _open(page, "/admin/tokens", shots, "tokens")
        _tab_to(page, "#name")
        page.keyboard.type("shop integration")
        _tab_to(page, "input[value='audit:read']")
        page.keyboard.press("Space")
        assert page.is_checked("input[value='audit:read']")
        _tab_to(page, "main form[action='/admin/tokens'] button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("#new-token")
        assert page.inner_text("#new-token").strip().startswith("ehr_")
        _every_control_reachable(page)
        page.screenshot(path=shots / "tokens-created.png", full_page=True)

        # Audit log: filtered by action (Enter submits), then the chain verified
        _open(page, "/admin/audit", shots, "audit")
        _tab_to(page, "#f-action")
        page.keyboard.type("api_token.create")
        page.keyboard.press("Enter")
        page.wait_for_url("**/admin/audit?*")
        assert page.locator("table.data tbody tr").count() == 1
        _tab_to(page, "main form[action='/admin/audit/verify'] button")
        page.keyboard.press("Enter")
        page.wait_for_selector("#chain-result")
        assert "intact" in page.inner_text("#chain-result")
        _every_control_reachable(page)
        page.screenshot(path=shots / "audit-verified.png", full_page=True)

        # Backups: one queued from the page
        _open(page, "/admin/backups", shots, "backups")
        _tab_to(page, "main form[action='/admin/backups/run'] button")
        page.keyboard.press("Enter")
        page.wait_for_selector(".flash")
        assert "queued" in page.inner_text(".flash")
        page.screenshot(path=shots / "backups-queued.png", full_page=True)

        # Staff: invited with a role chosen by typing in the list
        _open(page, "/admin/staff", shots, "staff")
        _tab_to(page, "#email")
        page.keyboard.type("new@example.org")
        _tab_to(page, "#role")
        page.keyboard.type("support")
        assert page.input_value("#role") == "support"
        _tab_to(page, "main form[action='/admin/staff'] button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("#new-password")
        _every_control_reachable(page)
        page.screenshot(path=shots / "staff-invited.png", full_page=True)

        # Settings: read only; every control (if any) reachable
        _open(page, "/admin/settings", shots, "settings")

        # Mail: a test mail asked for (mail is off here: the page says why)
        _open(page, "/admin/mail", shots, "mail")
        _tab_to(page, "main form[action='/admin/mail/test'] button")
        page.keyboard.press("Enter")
        page.wait_for_selector("main .flash")
        page.screenshot(path=shots / "mail-tested.png", full_page=True)

        # Breaches: one recorded, then its measures saved, with the keyboard only
        _open(page, "/admin/breaches", shots, "breaches")
        _tab_to(page, "main a[href='/admin/breaches/new']")
        page.keyboard.press("Enter")
        page.wait_for_url("**/admin/breaches/new")
        _every_control_reachable(page)
        _tab_to(page, "#title")
        page.keyboard.type("Support laptop stolen")
        _tab_to(page, "main form[action='/admin/breaches'] button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("#clock")
        _every_control_reachable(page)
        _tab_to(page, "#measures")
        page.keyboard.type("Remote wipe requested")
        _tab_to(page, "#tell-undecided")  # a radio group is one stop; arrows move in it
        page.keyboard.press("ArrowDown")
        assert page.is_checked("#tell-yes")
        _tab_to(page, "main form:has(#measures) button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("main .flash.ok")
        assert "Remote wipe requested" in page.inner_text("main")
        assert "high risk" in page.inner_text("main")
        page.screenshot(path=shots / "breach-saved.png", full_page=True)

        # Retention: the dry run, read only here but for its run button
        _open(page, "/admin/retention", shots, "retention")

        # Account: the password changed with the keyboard only
        _open(page, "/admin/account", shots, "account")
        _tab_to(page, "#current")
        page.keyboard.type(PASSWORD)
        _tab_to(page, "#new_password")
        page.keyboard.type("amber-quarry-lighthouse-4021")
        _tab_to(page, "main form[action='/admin/account'] button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("main .flash")
        assert "ok" in (page.get_attribute("main .flash", "class") or "")
        page.screenshot(path=shots / "account-changed.png", full_page=True)

        # Shift+Tab walks back with the same visible focus
        back = _tab(page, "Shift+Tab")
        assert back is not None
        assert page.evaluate("window.__cspViolations") == []
