"""Debian's Chromium for the browser tests, and the accessibility audit run inside a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
A11Y_AUDIT = (Path(__file__).parent / "a11y_audit.js").read_text(encoding="utf-8")


def audit_accessibility(page: Page) -> dict[str, Any]:
    """lang attribute, landmarks, heading order, link names and text contrast of the page."""
    result: dict[str, Any] = page.evaluate(A11Y_AUDIT)
    return result
