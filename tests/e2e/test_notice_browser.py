"""The public notice in a real browser (Chromium) against a real `ehrlich serve`.

Checks both languages, the language switch (a plain link, no script), the
version page, that nothing loads from elsewhere, and an accessibility check
computed in the page itself: lang attribute, landmarks, heading order, link
names and the WCAG contrast ratio of every piece of text.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from ehrlich.instance.service import init_instance, open_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings
from tests.conftest import NOW

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

A11Y_AUDIT = (Path(__file__).parent / "a11y_audit.js").read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ehrlich serve` on a free port with two published notice versions."""
    root = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=root / "data", key_file=root / "keys" / "k.key")
    init_instance(settings, now=NOW)
    instance = open_instance(settings)
    example = example_notice_text()
    try:
        for hours, text in enumerate([example, example.replace("duration: 2 years",
                                                               "duration: 3 years")]):
            with instance.db.write() as session:
                instance.notices.publish(session, text, file="notice.yaml", publisher="test",
                                         now=NOW + timedelta(hours=hours))
    finally:
        instance.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
    log = root / "serve.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "ehrlich", "--data-dir", str(root / "data"), "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(base: str, process: subprocess.Popen[str], log: Path) -> None:
    """Poll /healthz until the server answers (start-up on a busy machine takes a while)."""
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"ehrlich serve exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
    raise AssertionError("ehrlich serve did not answer on /healthz")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watch:
    """Every request the page makes and every console message (CSP violations land there)."""

    def __init__(self, page: Page) -> None:
        self.requests: list[str] = []
        self.console: list[str] = []
        page.on("request", self._request)
        page.on("console", self._console)

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")


def _audit(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(A11Y_AUDIT)
    return result


def test_notice_in_german_then_english_then_an_old_version(server: str, browser: Browser
                                                           ) -> None:
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    watch = Watch(page)
    try:
        response = page.goto(f"{server}/notice")
        assert response is not None
        assert response.status == 200
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.locator("h1").inner_text().startswith("Datenschutzhinweise")
        assert page.locator("h2").first.inner_text() == "Kurz gesagt"
        assert "3 Jahre nach Ihrem Widerruf" in page.locator("dl.summary").inner_text()

        page.get_by_role("link", name="English").click()
        assert page.url == f"{server}/notice?lang=en"
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text().startswith("Privacy notice")
        assert page.get_by_role("navigation", name="Language").is_visible()
        assert page.get_by_role("link", name="English").get_attribute("aria-current") == "page"

        page.get_by_role("link", name="Version 1, published 2026-11-29").click()
        assert page.url == f"{server}/notice/v/1?lang=en"
        assert page.locator(".note").is_visible()
        assert "older version" in page.locator(".note").inner_text()
        assert "2 years after you withdraw consent" in page.locator("dl.summary").inner_text()

        page.get_by_role("link", name="Deutsch").click()
        assert page.url == f"{server}/notice/v/1?lang=de"
        assert "ältere Version" in page.locator(".note").inner_text()
    finally:
        context.close()
    assert all(url.startswith(server + "/") for url in watch.requests), watch.requests
    assert f"{server}/static/ehrlich.css" in watch.requests
    assert not [m for m in watch.console if "Content Security Policy" in m], watch.console


@pytest.mark.parametrize("path", ["/notice?lang=en", "/notice?lang=de", "/notice/v/1?lang=de"])
def test_accessibility(server: str, browser: Browser, path: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(server + path)
        result = _audit(page)
    finally:
        context.close()
    assert result["checked"] > 50
    assert result["problems"] == []


def test_accessibility_audit_catches_problems(server: str, browser: Browser) -> None:
    """The audit itself must be able to fail: break a page and look."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(server + "/notice?lang=en")
        page.evaluate("""() => {
          document.querySelector('h2').outerHTML = '<h4>skipped</h4>';
          document.querySelector('dd').style.color = '#cccccc';
          document.querySelector('nav').remove();
          document.documentElement.removeAttribute('lang');
        }""")
        problems = _audit(page)["problems"]
    finally:
        context.close()
    assert "html has no lang attribute" in problems
    assert "landmark nav missing or repeated" in problems
    assert any(p.startswith('heading "skipped" skips from h1 to h4') for p in problems)
    assert any(p.startswith("contrast 1.6") for p in problems), problems
