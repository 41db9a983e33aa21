"""The public notice in a real browser (Chromium) against a real `ehrlich serve`.

Checks both languages, the language switch (a plain link, no script), the
version page, that nothing loads from elsewhere, and an accessibility check
computed in the page itself: lang attribute, landmarks, heading order, link
names and the WCAG contrast ratio of every piece of text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request

from ehrlich.domains import open_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.e2e.browser import audit_accessibility
from tests.e2e.servers import running_servers
from tests.factories import publish_notice
from tests.instances import InstanceTemplates

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, instance_templates: InstanceTemplates
           ) -> Iterator[str]:
    """`ehrlich serve` on a free port with two published notice versions."""
    root = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=root / "data", key_file=root / "keys" / "k.key")
    instance_templates.install(settings)
    instance = open_instance(settings)
    example = example_notice_text()
    try:
        for hours, text in enumerate([example, example.replace("duration: 2 years",
                                                               "duration: 3 years")]):
            publish_notice(instance, text, now=NOW + timedelta(hours=hours))
    finally:
        instance.close()
    with running_servers(settings.data_dir / "ehrlich.toml", 1) as urls:
        yield urls[0]


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
        result = audit_accessibility(page)
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
        problems = audit_accessibility(page)["problems"]
    finally:
        context.close()
    assert "html has no lang attribute" in problems
    assert "landmark nav missing or repeated" in problems
    assert any(p.startswith('heading "skipped" skips from h1 to h4') for p in problems)
    assert any(p.startswith("contrast 1.6") for p in problems), problems
