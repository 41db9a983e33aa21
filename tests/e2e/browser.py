"""Debian's Chromium for the browser tests, the screenshot of every page a test loads
(`SHOTS`), and the checks run inside a page: our own accessibility audit, axe-core (from
the npm registry, installed into tests/e2e by `npm ci --prefix tests/e2e`; never served
by ehrlich), reflow at 320 CSS px, and the page's Content-Security-Policy violations."""

from __future__ import annotations

import contextlib
import functools
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import service_unavailable

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
A11Y_AUDIT = (Path(__file__).parent / "a11y_audit.js").read_text(encoding="utf-8")
REFLOW_CHECK = (Path(__file__).parent / "reflow_check.js").read_text(encoding="utf-8")
AXE_SCRIPT = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
NARROW = {"width": 320, "height": 640}  # WCAG 1.4.10 reflow: 320 CSS px, no sideways scroll
DESKTOP = {"width": 1280, "height": 900}
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def audit_accessibility(page: Page) -> dict[str, Any]:
    """lang attribute, landmarks, heading order, link names and text contrast of the page."""
    result: dict[str, Any] = page.evaluate(A11Y_AUDIT)
    return result


def axe_script() -> Path:
    """axe-core's script; skips (fails under EHRLICH_REQUIRE_SERVICES=1) when not installed."""
    if not AXE_SCRIPT.is_file():
        service_unavailable("axe-core", "not installed (run `npm ci --prefix tests/e2e`; "
                            "`make test` does it when npm exists; Debian: apt-get install npm)")
    return AXE_SCRIPT


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations of impact serious or critical on the page as it stands, one
    line each: rule, impact, help, and the first few offending elements.

    The script is evaluated through the browser's DevTools protocol, as the test's own
    code, which the page's Content-Security-Policy does not govern: the page keeps its CSP
    (check its CSP violations first, with `csp_violations`) and needs no second load in a
    context that bypasses it. A context that audits many pages loads it once instead
    (`load_axe_in_every_page`)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(_axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
            for v in found if v["impact"] in BLOCKING_IMPACTS]


def load_axe_in_every_page(context: BrowserContext) -> None:
    """axe-core in every document of `context` before the page's own scripts, handed to
    the browser once: evaluating its half megabyte per page (from this process, through
    Playwright's driver) was about a third of each audited page's time. Like `evaluate`,
    an init script comes through the DevTools protocol, which the page's CSP does not
    govern; it only defines `axe`, so the page's own CSP violations are still its own."""
    context.add_init_script(script=_axe_source())


@functools.cache
def _axe_source() -> str:
    # a statement list, not an expression: the trailing `;0` keeps evaluate from trying
    # to hand the last statement's value back
    return axe_script().read_text(encoding="utf-8") + "\n;0"


BROKEN_HEADERS = """() => [...document.querySelectorAll('table th')].flatMap(th => {
  // the header's visible text (a visually hidden label sits in a 1 px box of its own)
  const shown = [];
  const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.trim() && node.parentElement.getBoundingClientRect().width > 1) {
      shown.push(node);
    }
  }
  const word = shown.map(node => node.textContent).join('').trim();
  if (!word || /\\s/.test(word)) return [];
  const lines = new Set(shown.flatMap(node => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return [...range.getClientRects()].map(r => Math.round(r.top));
  }));
  return lines.size > 1 ? [`the header "${word}" is broken across ${lines.size} lines`] : [];
})"""


def broken_headers(page: Page) -> list[str]:
    """Table headers of one word that the layout breaks across lines (at 320 px, a table
    squeezed into the page instead of scrolling inside its own box reads "Ph / on / e")."""
    found: list[str] = page.evaluate(BROKEN_HEADERS)
    return found


def reflow_overflow(page: Page) -> list[str]:
    """Empty when the page does not scroll sideways; else how far it does and the outermost
    elements sticking out past the viewport's right edge (to say what to fix)."""
    found: list[str] = page.evaluate(REFLOW_CHECK)
    return found


def record_csp_violations(context: BrowserContext) -> None:
    context.add_init_script(RECORD_CSP_VIOLATIONS)


def csp_violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations || []")
    return found


def artefact_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Where screenshots go: $EHRLICH_TEST_ARTEFACTS/name when set (CI keeps it), else a
    pytest temporary directory. Never inside the repository."""
    root = os.environ.get("EHRLICH_TEST_ARTEFACTS")
    if root:
        path = Path(root) / name
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp(name)


class PageShots:
    """Where the running test's page screenshots go, and which addresses it has."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.taken: set[str] = set()

    def start(self, folder: Path) -> None:
        self.folder, self.taken = folder, set()

    def watch(self, page: Page) -> None:
        page.on("load", lambda _: self.take(page))

    def take(self, page: Page) -> None:
        address = page.url.split("#", 1)[0]
        if self.folder is None or address in self.taken:
            return
        self.taken.add(address)
        parts = urlsplit(address)
        name = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.path}-{parts.query}").strip("-")
        # the page may have gone on to the next one, or been closed, meanwhile
        with contextlib.suppress(PlaywrightError):
            # the viewport only: a full-page capture resizes the page while the test may be
            # measuring it (tests take full-page shots of their own between their steps)
            page.screenshot(path=self.folder / f"{len(self.taken):03d}-{name or 'root'}.png")


SHOTS = PageShots()
