"""Consent history and audience over the API."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.instance.service import Instance
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW
from tests.consent.helpers import TEXT, new_subject, record

Auth = Callable[..., dict[str, str]]


def test_history_lists_every_event_oldest_first(client: TestClient, instance: Instance,
                                                auth: Auth) -> None:
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "requested")
    record(instance, ada, "confirmed")
    record(instance, ada, "withdrawn")
    response = client.get(f"/api/v1/subjects/{ada}/consents", headers=auth("consent:read"))
    assert response.status_code == 200
    got = response.json()
    assert [e["action"] for e in got] == ["requested", "confirmed", "withdrawn"]
    assert got[1]["text_shown"] == TEXT
    missing = client.get("/api/v1/subjects/00000000-0000-0000-0000-000000000000/consents",
                         headers=auth("consent:read"))
    assert missing.status_code == 404
    assert client.get(f"/api/v1/subjects/{ada}/consents",
                      headers=auth("subjects:read")).status_code == 403


def test_audience_streams_decrypted_contacts_excluding_withdrawn_and_erased(
        client: TestClient, instance: Instance, auth: Auth) -> None:
    with instance.db.write() as session:
        ids = {}
        for name in ("ada", "bob", "cy", "dee"):
            ids[name] = instance.subjects.create(session, SubjectInput(
                email=f"{name}@example.org", name=name.title()), actor="t", now=NOW).subject.id
    for subject_id in ids.values():
        record(instance, subject_id, "granted")
    record(instance, ids["bob"], "withdrawn")
    instance.subjects.erase(instance.db, ids["cy"], actor="t", now=NOW)
    headers = auth("audience:read")
    ndjson = client.get("/api/v1/audience?purpose=newsletter&channel=email", headers=headers)
    assert ndjson.status_code == 200
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in ndjson.text.splitlines()]
    assert sorted(r["email"] for r in rows) == ["ada@example.org", "dee@example.org"]
    assert {r["name"] for r in rows} == {"Ada", "Dee"}
    as_csv = client.get("/api/v1/audience?purpose=newsletter",
                        headers={**headers, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(as_csv.text)))
    assert table[0] == ["id", "email", "name"]
    assert sorted(r[1] for r in table[1:]) == ["ada@example.org", "dee@example.org"]
    assert client.get("/api/v1/audience?purpose=newsletter&format=csv",
                      headers=headers).text == as_csv.text
    with instance.db.read() as session:
        exports = session.execute(select(AuditEntry).where(
            AuditEntry.action == "subject.export")).scalars().all()
    assert len(exports) == 3
    assert client.get("/api/v1/audience?purpose=newsletter",
                      headers=auth("consent:read")).status_code == 403
    assert client.get("/api/v1/audience?purpose=NOT%20A%20PURPOSE",
                      headers=headers).status_code == 422
