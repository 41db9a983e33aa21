"""The subjects API over HTTP through the ASGI app, on both databases."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.audit.models import AuditEntry
from ehrlich.instance.service import Instance
from ehrlich.subjects.models import Subject

Auth = Callable[..., dict[str, str]]
ALL = ("subjects:write", "subjects:erase", "audit:read")


def _counts(instance: Instance) -> tuple[int, int]:
    with instance.db.read() as session:
        return (session.execute(select(func.count()).select_from(Subject)).scalar_one(),
                session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_create_read_patch_search_erase(client: TestClient, auth: Auth) -> None:
    h = auth(*ALL)
    r = client.post("/api/v1/subjects", headers=h, json={
        "email": "Ada@Example.org", "name": "Ada", "phone": "+44 20 7946 0958",
        "attributes": {"plan": "pro"}, "source": "web form"})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.headers["location"] == f"/api/v1/subjects/{sid}"

    again = client.post("/api/v1/subjects", headers=h, json={"email": "ada@example.ORG"})
    assert (again.status_code, again.json()["id"]) == (200, sid)

    got = client.get(f"/api/v1/subjects/{sid}", headers=h).json()
    assert (got["email"], got["phone"], got["attributes"]) == (
        "Ada@Example.org", "+442079460958", {"plan": "pro"})

    patched = client.patch(f"/api/v1/subjects/{sid}", headers=h, json={"name": "Ada King"})
    assert (patched.status_code, patched.json()["name"]) == (200, "Ada King")

    found = client.get("/api/v1/subjects", headers=h, params={"email": "ADA@example.org"})
    assert [s["id"] for s in found.json()] == [sid]

    assert client.delete(f"/api/v1/subjects/{sid}", headers=h).status_code == 204
    gone = client.get(f"/api/v1/subjects/{sid}", headers=h)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/subjects", headers=h, params={"email": "ada@example.org"}
                      ).json() == []
    assert client.get("/api/v1/audit/verify", headers=h).json()["ok"] is True


BAD_BODIES = [
    (json.dumps({"email": "not-an-address"}), 422, "email"),
    (json.dumps({"email": "a@example.org", "shoe_size": 44}), 422, "shoe_size"),
    (json.dumps({"email": "a@example.org", "attributes": {"blob": "x" * (64 * 1024)}}), 422,
     "attributes"),
    (json.dumps({"email": "a@example.org", "name": "n" * 501}), 422, "name"),
    (json.dumps({"name": "nobody"}), 422, "email"),
    ('{"email": "a@example.org",', 400, "body"),
    ("[1, 2, 3]", 422, "body"),
    (json.dumps({"email": "a@example.org", "phone": "call me maybe"}), 422, "phone"),
    (json.dumps({"email": "a@example.org", "obtained_at": "yesterday"}), 422, "obtained_at"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_BODIES)
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
        client: TestClient, auth: Auth, instance: Instance, body: str, status: int,
        field: str) -> None:
    h = auth("subjects:write") | {"content-type": "application/json"}
    before = _counts(instance)
    r = client.post("/api/v1/subjects", headers=h, content=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == status
    assert field in [e["field"] for e in problem["errors"]]
    assert _counts(instance) == before


def test_oversized_body_is_refused_before_reading(client: TestClient, auth: Auth,
                                                  instance: Instance) -> None:
    h = auth("subjects:write") | {"content-type": "application/json"}
    body = json.dumps({"email": "a@example.org", "name": "x" * (2 * 1024 * 1024)})
    r = client.post("/api/v1/subjects", headers=h, content=body)
    assert r.status_code == 413
    assert r.json()["errors"][0]["field"] == "body"
    assert _counts(instance)[0] == 0


def test_patch_bad_input_changes_nothing(client: TestClient, auth: Auth) -> None:
    h = auth("subjects:write")
    sid = client.post("/api/v1/subjects", headers=h, json={"email": "b@example.org",
                                                           "name": "B"}).json()["id"]
    other = client.post("/api/v1/subjects", headers=h, json={"email": "c@example.org"}).json()
    for body, status in (({"email": "nope"}, 422), ({"colour": "red"}, 422),
                         ({"email": "C@example.org"}, 409), ({}, 422)):
        r = client.patch(f"/api/v1/subjects/{sid}", headers=h, json=body)
        assert r.status_code == status, (body, r.text)
    unchanged = client.get(f"/api/v1/subjects/{sid}", headers=h).json()
    assert (unchanged["email"], unchanged["name"]) == ("b@example.org", "B")
    assert other["email"] == "c@example.org"


def test_tokens_and_scopes(client: TestClient, auth: Auth) -> None:
    assert client.get("/api/v1/subjects", params={"email": "a@example.org"}).status_code == 401
    bad = {"Authorization": "Bearer ehr_0000_nonsense"}
    assert client.get("/api/v1/subjects", headers=bad, params={"email": "a@b.org"}
                      ).status_code == 401
    reader = auth("subjects:read")
    denied = client.post("/api/v1/subjects", headers=reader, json={"email": "a@example.org"})
    assert denied.status_code == 403
    assert "subjects:write" in denied.json()["detail"]
    writer = auth("subjects:write")
    sid = client.post("/api/v1/subjects", headers=writer, json={"email": "a@example.org"}
                      ).json()["id"]
    assert client.delete(f"/api/v1/subjects/{sid}", headers=writer).status_code == 403
    assert client.get(f"/api/v1/subjects/{sid}", headers=reader).status_code == 200
    assert client.get("/api/v1/audit/verify", headers=reader).status_code == 403


def test_unknown_subject_and_bad_search(client: TestClient, auth: Auth) -> None:
    h = auth("subjects:write", "subjects:erase")
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/api/v1/subjects/{missing}", headers=h).status_code == 404
    assert client.delete(f"/api/v1/subjects/{missing}", headers=h).status_code == 404
    r = client.get("/api/v1/subjects", headers=h)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "email")


def test_tampered_row_gives_integrity_problem_not_garbage(client: TestClient, auth: Auth,
                                                          instance: Instance) -> None:
    from sqlalchemy import update

    h = auth("subjects:write")
    a = client.post("/api/v1/subjects", headers=h, json={"email": "a@example.org"}).json()["id"]
    b = client.post("/api/v1/subjects", headers=h, json={"email": "b@example.org"}).json()["id"]
    with instance.db.write() as session:
        blob = session.execute(select(Subject.email_ct).where(Subject.id == a)).scalar_one()
        session.execute(update(Subject).where(Subject.id == b).values(email_ct=blob))
    r = client.get(f"/api/v1/subjects/{b}", headers=h)
    assert r.status_code == 500
    assert r.json()["type"] == "urn:ehrlich:problem:integrity-failure"
    assert "a@example.org" not in r.text


def test_health_docs_and_security_headers(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.json()["status"] == "ok"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/v1/subjects" in docs.text
    assert "http://" not in docs.text.replace("http://testserver", "")
    assert "<script" not in docs.text
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/subjects/{subject_id}" in spec["paths"]


def test_home_page_links_to_the_public_pages(client: TestClient) -> None:
    r = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert r.status_code == 200
    assert '<html lang="de">' in r.text
    for href in ("/notice", "/security", "/admin", "/api/docs"):
        assert f'href="{href}"' in r.text


def test_unreachable_backing_services_are_503_problems_not_500s() -> None:
    """Redis (sign-in counters) or the database going away answers clearly, never a 500."""
    from fastapi import FastAPI
    from sqlalchemy import create_engine, text

    from ehrlich.counters.stores import redis_client
    from ehrlich.web import problems
    from tests.e2e.servers import free_port

    app = FastAPI()
    problems.install(app, redis=True)
    port = free_port()  # nothing listens there

    @app.get("/redis")
    def redis_down() -> None:
        redis_client(f"redis://127.0.0.1:{port}/0").incr("x")

    @app.get("/db")
    def db_down() -> None:
        engine = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{port}/x")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    with TestClient(app, raise_server_exceptions=False) as c:
        for path in ("/redis", "/db"):
            r = c.get(path)
            assert r.status_code == 503, path
            assert r.headers["retry-after"] == "30"
            assert r.json()["type"] == "urn:ehrlich:problem:unavailable"
