"""The console answers errors with pages in its own layout and language (the API keeps
problem+json), serves its own icon, shows the protection report in German, and finds
a person's consent history by email address."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.app import create_app
from ehrlich.audit.models import AuditEntry
from ehrlich.consent.models import ConsentEvent
from ehrlich.i18n import catalogue_path
from ehrlich.instance.service import Instance
from ehrlich.web.deps import get_now
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    open_session,
    settings,
)
from tests.factories import Staff, new_subject, record

HTML = "text/html; charset=utf-8"


def _german_catalogue() -> dict[str, str]:
    """English text → German; a text with plural forms maps each English form to the
    German form of the same number (1 and many: German and English count alike)."""
    german: dict[str, str] = {}
    with catalogue_path("de").open("rb") as source:
        for m in read_po(source):
            if isinstance(m.id, str):
                german[m.id] = m.string
            else:
                german.update(zip(m.id, m.string, strict=True))
    return german


GERMAN = _german_catalogue()
Maker = Callable[..., Staff]


def _is_console_page(response: object, status: int) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == HTML  # type: ignore[attr-defined]
    text: str = response.text  # type: ignore[attr-defined]
    assert 'class="admin"' in text
    assert "/static/admin.css" in text
    return text


def test_forbidden_is_a_console_page_in_the_readers_language(
        console: TestClient, make_staff: Maker, clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("marketer"), clock.now)
    page = _is_console_page(console.get("/admin/staff"), 403)
    assert "Not allowed" in page
    assert "staff.manage" not in page
    assert '"detail"' not in page
    assert 'href="/admin/account"' in page  # the navigation of the signed-in role
    german = _is_console_page(console.get("/admin/staff?lang=de"), 403)
    assert "Nicht erlaubt" in german
    assert 'lang="de"' in german


def test_unknown_pages_and_wrong_methods_are_console_pages(
        console: TestClient, make_staff: Maker, clock: Clock) -> None:  # noqa: F811
    assert "Page not found" in _is_console_page(console.get("/admin/nothing-here"), 404)
    open_session(console, make_staff("owner"), clock.now)
    german = console.get("/admin/nothing-here", headers={"Accept-Language": "de"})
    assert "Seite nicht gefunden" in _is_console_page(german, 404)
    wrong = console.put("/admin/staff")
    assert "Not possible here" in _is_console_page(wrong, 405)
    assert "GET" in wrong.headers["allow"]
    refused = console.post("/admin/staff", data={"email": "a" * 5000, "role": "support",
                                                 "csrf": "x"})
    page = _is_console_page(refused, 422)
    assert "Please check your input" in page
    assert "<strong>email</strong>" in page


def test_the_api_keeps_problem_json(console: TestClient) -> None:  # noqa: F811
    for path in ("/api/v1/nothing-here", "/administrator"):
        r = console.get(path)
        assert (r.status_code, r.headers["content-type"]) == (404, "application/problem+json")


@pytest.fixture
def failing_console(instance: Instance, clock: Clock) -> Iterator[TestClient]:  # noqa: F811
    """The console app with one page that fails, as an unforeseen bug would."""
    app = create_app(instance)
    app.dependency_overrides[get_now] = lambda: clock.now

    @app.get("/admin/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


def test_an_unexpected_error_is_a_console_page(failing_console: TestClient) -> None:
    page = _is_console_page(failing_console.get("/admin/broken"), 500)
    assert "Something went wrong" in page
    assert "a bug" not in page
    german = failing_console.get("/admin/broken?lang=de")
    assert "Etwas ist schiefgegangen" in _is_console_page(german, 500)


def test_favicon_is_our_own_and_linked_from_every_layout(
        console: TestClient) -> None:  # noqa: F811
    icon = console.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
    assert console.get("/static/favicon.svg").content == icon.content
    for path in ("/", "/admin/login", "/api/docs", "/notice"):
        assert 'rel="icon" href="/static/favicon.svg"' in console.get(path).text, path


def _check_texts() -> list[str]:
    """Every text the posture checks can report, read from their source."""
    src = Path(__file__).parents[2] / "src" / "ehrlich"
    texts = []
    for file in [src / "posture" / "checks.py", *src.glob("*/posture.py")]:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("Finding",
                                                                                "check"):
                args = node.args[1:3] if node.func.id == "Finding" else node.args[1:2]
                texts += [c.value for a in args for c in ast.walk(a)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str)]
                assert not any(isinstance(c, ast.JoinedStr) for a in args for c in ast.walk(a)
                               ), f"{file.name}: use a template with params, not an f-string"
    return texts


def test_every_posture_text_has_a_german_translation() -> None:
    texts = _check_texts()
    assert len(texts) > 40
    missing = [t for t in texts if t not in GERMAN]
    assert not missing
    for english in texts:  # the same fields in both
        assert set(re.findall(r"{(\w+)}", english)) == set(re.findall(r"{(\w+)}",
                                                                       GERMAN[english]))


def test_german_dashboard_shows_the_report_in_german(
        console: TestClient, make_staff: Maker, clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("owner"), clock.now)
    page = console.get("/admin?lang=de").text
    assert "Schutzbericht" in page
    assert "Die Audit-Kette ist unversehrt" in page
    assert "Audit chain verifies" not in page
    assert "Einträge geprüft" in page
    assert "keine Datenschutzerklärung veröffentlicht" in page
    assert "Fehler" in page
    assert " fail<" not in page
    english = console.get("/admin?lang=en").text
    assert "Audit chain verifies" in english
    assert "no notice is published" in english


def test_consent_history_by_email_address(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "requested")
    with instance.db.read() as session:
        event = session.execute(select(ConsentEvent.id)).scalar_one()
    open_session(console, make_staff("auditor"), clock.now)
    found = console.get("/admin/consents", params={"subject": " Ada@Example.ORG "})
    assert found.status_code == 200
    assert f"/admin/consents/proof/{event}" in found.text
    assert console.get("/admin/consents", params={"subject": ada}).text.count(
        f"/admin/consents/proof/{event}") == 1
    unknown = console.get("/admin/consents", params={"subject": "bob@example.org"})
    assert unknown.status_code == 404
    assert "No contact has this email address." in unknown.text
    german = console.get("/admin/consents", params={"subject": "bob@example.org",
                                                    "lang": "de"})
    assert "Kein Kontakt hat diese E-Mail-Adresse." in german.text
    bad = console.get("/admin/consents", params={"subject": "ada@"})
    assert bad.status_code == 422
    with instance.db.read() as session:
        lookups = session.execute(select(AuditEntry.target).where(
            AuditEntry.action == "subject.lookup")).scalars().all()
    assert lookups == [ada]
