"""Errors on public paths: a page for a browser, problem details for the API and scripts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_browser_following_a_wrong_link_gets_a_page_in_its_language(
        client: TestClient) -> None:
    english = client.get("/nope", headers=BROWSER)
    assert english.status_code == 404
    assert english.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in english.text
    assert 'href="/"' in english.text
    assert "urn:ehrlich:problem" not in english.text
    german = client.get("/nope?lang=de", headers=BROWSER)
    assert german.status_code == 404
    assert "<h1>Seite nicht gefunden</h1>" in german.text
    assert 'lang="de"' in german.text


def test_a_path_parameter_that_cannot_be_read_is_a_page_with_the_field(
        client: TestClient) -> None:
    response = client.get("/notice/v/abc", headers=BROWSER)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "<strong>number</strong>" in response.text  # the part of the address refused
    long_name = client.post("/signup?lang=de", headers=BROWSER, data={"name": "x" * 5000})
    assert long_name.status_code == 422
    assert "Bitte geben Sie höchstens 4096 Zeichen ein." in long_name.text  # not pydantic's


@pytest.mark.parametrize(("path", "headers"), [
    ("/nope", {}),  # a script (httpx sends Accept: */*)
    ("/nope", {"Accept": "application/json"}),
    ("/api/v1/nope", BROWSER),  # the API speaks problem details even to a browser
])
def test_the_api_and_scripts_keep_problem_details(client: TestClient, path: str,
                                                  headers: dict[str, str]) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:ehrlich:problem:http"


def test_the_console_keeps_its_own_error_page(client: TestClient) -> None:
    response = client.get("/admin/nope", headers=BROWSER)
    assert response.status_code == 404
    assert 'class="error-page"' in response.text  # admin/templates/error.html
