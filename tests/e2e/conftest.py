"""The browser the end-to-end tests drive: one Chromium (Debian's) per test process.

Every page a test's browser loads is saved as a screenshot, once per address,
into that test's artefact directory (`browser.artefact_dir`: $EHRLICH_TEST_ARTEFACTS/<test>
when set, e.g. `test-artifacts/` in the checkout, which git ignores; else a pytest
temporary directory). Tests may save more screenshots of their own (states within a page).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import system_program
from tests.e2e.browser import CHROMIUM_ARGS, SHOTS, PageShots, artefact_dir


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium per test process: each test opens contexts of its own, and starting
    the browser and Playwright's driver again for every module cost about half a second."""
    chromium = system_program("chromium", "chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        new_page, new_context = launched.new_page, launched.new_context

        def page_watched(**options: Any) -> Page:
            page = new_page(**options)
            SHOTS.watch(page)
            return page

        def context_watched(**options: Any) -> BrowserContext:
            context = new_context(**options)
            context.on("page", SHOTS.watch)
            return context

        launched.new_page = page_watched  # type: ignore[method-assign]
        launched.new_context = context_watched  # type: ignore[method-assign]
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def page_shots(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageShots]:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:80]
    SHOTS.start(artefact_dir(tmp_path_factory, f"pages-{name}"))
    yield SHOTS
    SHOTS.folder = None
