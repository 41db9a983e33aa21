"""One rule for control characters in free text, whichever way it comes in: the
subjects API (create, rectify), the signup API, the signup form and the schema the CLI
builds. Each refusal is a 422 naming the field, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from ehrlich.consent.models import ConsentEvent
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import SubjectChanges, SubjectInput
from tests.consent.test_signup_pages import form

Auth = Callable[..., dict[str, str]]
BAD = ["nul\x00", "esc\x1b[31m", "line\r\nInjected: yes", "tab\there", "\u202egnp.exe",
       "c1\x85", "isolate\u2066x"]
FINE = ["Zoë Ødegård", "محمد\u200c", "👩\u200d💻", "a\u200fb"]  # joiners and marks stay


def _counts(instance: Instance) -> tuple[int, int]:
    with instance.db.read() as session:
        return (session.execute(select(func.count()).select_from(Subject)).scalar_one(),
                session.execute(select(func.count()).select_from(ConsentEvent)).scalar_one())


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("bad", BAD)
def test_api_refuses_control_characters_naming_the_field(
        client: TestClient, auth: Auth, instance: Instance, bad: str) -> None:
    h = auth("subjects:write", "signups:write")
    sid = client.post("/api/v1/subjects", headers=h,
                      json={"email": "kept@example.org", "name": "Kept"}).json()["id"]
    before = _counts(instance)
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/api/v1/subjects", {"email": "a@example.org", "name": bad}, "name"),
        ("POST", "/api/v1/subjects", {"email": "a@example.org", "source": bad}, "source"),
        ("POST", "/api/v1/subjects", {"email": "a@example.org", "attributes": {bad: "x"}},
         "attributes"),
        ("POST", "/api/v1/subjects", {"email": "a@example.org",
                                      "attributes": {"note": {"deep": [bad]}}}, "attributes"),
        ("PATCH", f"/api/v1/subjects/{sid}", {"name": bad}, "name"),
        ("PATCH", f"/api/v1/subjects/{sid}", {"attributes": {"k": bad}}, "attributes"),
        ("POST", "/api/v1/signups", {"email": "s@example.org", "name": bad,
                                     "notice_version": 1, "consents": [
                                         {"purpose": "newsletter", "text": "x"}]}, "name"),
    ]
    for method, path, body, field in cases:
        r = client.request(method, path, headers=h, json=body)
        assert r.status_code == 422, (path, body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in _fields(r), (path, r.json())
        assert "control characters" in r.json()["detail"]
    assert _counts(instance) == before
    got = client.get(f"/api/v1/subjects/{sid}", headers=auth("subjects:read")).json()
    assert (got["name"], got["attributes"]) == ("Kept", {})


@pytest.mark.parametrize("bad", BAD)
def test_signup_form_refuses_the_same(client: TestClient, published: Instance,
                                      outbox: MemoryMailSender, bad: str) -> None:
    r = client.post("/signup", data=form(name=bad))
    assert r.status_code == 422
    assert "name" in r.text
    assert "control characters" in r.text
    assert _counts(published) == (0, 0)
    assert outbox.sent == []


@pytest.mark.parametrize("bad", BAD)
def test_schemas_used_by_every_way_in_refuse_it(bad: str) -> None:
    for build in (lambda: SubjectInput(email="a@example.org", name=bad),
                  lambda: SubjectInput(email="a@example.org", source=bad),
                  lambda: SubjectInput(email="a@example.org", attributes={"k": bad}),
                  lambda: SubjectChanges(attributes={bad: 1})):
        with pytest.raises(ValidationError, match="control characters"):
            build()


def test_names_in_any_script_still_pass(client: TestClient, auth: Auth) -> None:
    h = auth("subjects:write")
    for number, name in enumerate(FINE):
        r = client.post("/api/v1/subjects", headers=h, json={
            "email": f"p{number}@example.org", "name": name, "source": f"fair {name}",
            "attributes": {name: name}})
        assert r.status_code == 201, (name, r.text)
        assert r.json()["name"] == name
