"""An audience export as the bytes a user downloads: UTF-8 with a BOM, CRLF, cells a
spreadsheet would run defused, each person's own links that verify and whose one-click POST
withdraws; only people with active consent, not suppressed, not erased; streamed in batches
audited under the copy's reference (no per-person ids); recorded as a completed copy."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.auth.roles import Role
from ehrlich.consent.ledger.suppression import suppress
from ehrlich.consent.models import ConsentState
from ehrlich.consent.signup.links import read_preferences_token
from ehrlich.consent.unsubscribe.links import read_unsubscribe_token
from ehrlich.errors import InvalidInput, NotAllowed
from ehrlich.instance.service import Instance
from ehrlich.sharing.copies import Caller, CopiesService
from ehrlich.sharing.service import SharingService
from tests.conftest import NOW
from tests.factories import publish_notice
from tests.sharing.helpers import OPERATOR, audit, person, request

HEADER = "id,email,unsubscribe_url,preferences_url"


def _export(instance: Instance, fmt: str = "csv", caller: Caller = OPERATOR,
            **changes: object) -> tuple[str, bytes]:
    file = instance.service(SharingService).export_audience(
        request(fmt, **changes), caller, now=NOW)  # type: ignore[arg-type]
    return file.copy_id, b"".join(file.body)


@pytest.fixture
def people(instance: Instance) -> dict[str, str]:
    publish_notice(instance)
    found = {name: person(instance, email) for name, email in (
        ("formula", "=cmd@example.org"), ("umlaut", "jürgen.müller@example.org"),
        ("plain", "ada@example.org"))}
    found["withdrawn"] = person(instance, "gone@example.org", "granted", "withdrawn")
    found["suppressed"] = person(instance, "blocked@example.org")
    found["erased"] = person(instance, "erased@example.org")
    with instance.db.write() as session:
        suppress(session, instance.subjects.email_index("blocked@example.org"),
                 purpose="newsletter", reason="test", now=NOW)
    instance.subjects.erase(instance.db, found["erased"], actor="test", now=NOW)
    return found


def test_csv_bytes_bom_crlf_defused_and_only_the_audience(
        instance: Instance, people: dict[str, str]) -> None:
    copy_id, data = _export(instance)
    assert data.startswith(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADER.split(",")
    emails = {r[0]: r[1] for r in rows[1:]}
    assert emails == {people["formula"]: "'=cmd@example.org",
                      people["umlaut"]: "jürgen.müller@example.org",
                      people["plain"]: "ada@example.org"}
    assert "jürgen.müller@example.org".encode() in data  # UTF-8, not escaped
    assert [r[0] for r in rows[1:]] == sorted(emails)  # keyset order: by subject id
    with instance.db.read() as session:
        view = instance.service(CopiesService).get(session, copy_id, OPERATOR, now=NOW)
    assert (view.kind, view.what, view.format, view.rows) == (
        "audience", "newsletter/email", "csv", 3)
    assert view.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert view.fields == tuple(HEADER.split(","))


def test_links_verify_and_the_one_click_post_withdraws(
        instance: Instance, people: dict[str, str], client: TestClient) -> None:
    _, data = _export(instance)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    row = next(r for r in rows if r["id"] == people["plain"])
    unsubscribe, preferences = urlsplit(row["unsubscribe_url"]), urlsplit(
        row["preferences_url"])
    base = urlsplit(instance.settings.base_url)
    assert (unsubscribe.scheme, unsubscribe.netloc) == (base.scheme, base.netloc)
    token = unsubscribe.path.removeprefix("/unsubscribe/")
    assert read_unsubscribe_token(instance.keyring, token, now=NOW) == (
        people["plain"], "newsletter", "email")
    assert read_preferences_token(instance.keyring, preferences.path.removeprefix(
        "/preferences/"), now=NOW) == people["plain"]
    assert client.get(preferences.path).status_code == 200
    answer = client.post(unsubscribe.path, data={"List-Unsubscribe": "One-Click"},
                         follow_redirects=False)
    assert answer.status_code == 200
    with instance.db.read() as session:
        state = session.get(ConsentState, (people["plain"], "newsletter", "email"))
    assert state is not None
    assert state.state == "withdrawn"
    _, again = _export(instance)
    assert people["plain"].encode() not in again


def test_ndjson_has_the_same_people_and_links(
        instance: Instance, people: dict[str, str]) -> None:
    _, data = _export(instance, "ndjson")
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert {line["id"]: line["email"] for line in lines} == {
        people["formula"]: "=cmd@example.org",  # JSON is no spreadsheet: the value as is
        people["umlaut"]: "jürgen.müller@example.org", people["plain"]: "ada@example.org"}
    assert all(set(line) == set(HEADER.split(",")) for line in lines)


def test_batches_are_audited_by_reference_not_by_person(
        instance: Instance, people: dict[str, str]) -> None:
    sharing = instance.service(SharingService)
    file = sharing.export_audience(request(), OPERATOR, now=NOW)
    stream = iter(file.body)
    next(stream)  # the header: nothing decrypted yet
    assert audit(instance, "subject.contacts.read") == []
    [issued] = audit(instance, "copy.issued")
    assert issued.target == file.copy_id
    assert json.loads(issued.detail)["reason"] == "December mailing from the mail tool"
    rest = b"".join(stream)
    [read] = audit(instance, "subject.contacts.read")
    detail = json.loads(read.detail)
    assert {k: detail[k] for k in ("field", "batch", "count")} == {
        "field": "email", "batch": f"copy:{file.copy_id}", "count": 3}
    for subject_id in people.values():
        assert subject_id not in read.detail
    with instance.db.read() as session:  # who was in the batch: the list the entry names
        members = instance.subjects.read_list(session, detail["list"], detail["members"])
    assert sorted(members) == sorted(people[n] for n in ("formula", "umlaut", "plain"))
    assert rest
    assert audit(instance, "copy.completed")[0].target == file.copy_id


def test_an_abandoned_download_stays_recorded_without_a_digest(
        instance: Instance, people: dict[str, str]) -> None:
    file = instance.service(SharingService).export_audience(request(), OPERATOR, now=NOW)
    stream = iter(file.body)
    next(stream)
    next(stream)  # the first batch left; the client went away
    with instance.db.read() as session:
        view = instance.service(CopiesService).get(session, file.copy_id, OPERATOR, now=NOW)
    assert (view.status, view.rows, view.digest) == ("open", None, None)


def test_many_batches_stream_every_person_once(instance: Instance) -> None:
    publish_notice(instance)
    ids = {person(instance, f"p{n}@example.org") for n in range(7)}
    sharing = SharingService(instance.settings, instance.db, instance.keyring, instance.audit,
                             instance.subjects, instance.notices,
                             instance.service(CopiesService), batch_size=3)
    file = sharing.export_audience(request("ndjson"), OPERATOR, now=NOW)
    lines = b"".join(file.body).splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(ids)
    reads = [json.loads(e.detail)["count"] for e in audit(instance, "subject.contacts.read")]
    assert reads == [3, 3, 1]
    assert file.body.rows == 7


@pytest.mark.parametrize(("field", "changes"), [
    ("purpose", {"purpose": "nope"}),
    ("purpose", {"purpose": "newsletter", "channel": "sms"}),
    ("reason", {"reason": ""}),
    ("destination", {"destination": ""}),
    ("expires", {"expires": NOW.date() + timedelta(days=90)}),
])
def test_bad_requests_name_the_field_and_record_nothing(
        instance: Instance, people: dict[str, str], field: str,
        changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as raised:
        _export(instance, **changes)
    assert field in {p.field for p in raised.value.problems}
    assert audit(instance, "copy.issued") == []
    assert audit(instance, "subject.contacts.read") == []


EXPORTERS = {Role.OWNER, Role.ADMIN, Role.MARKETER}


@pytest.mark.role_matrix(lambda role, **_: role in EXPORTERS)
@pytest.mark.parametrize("role", list(Role))
def test_only_roles_with_the_export_permission_may_export(
        instance: Instance, people: dict[str, str], role: Role) -> None:
    caller = Caller("staff:someone", role)
    if role in EXPORTERS:
        _, data = _export(instance, caller=caller)
        assert data.count(b"\r\n") == 4
    else:
        with pytest.raises(NotAllowed):
            _export(instance, caller=caller)
        assert audit(instance, "copy.issued") == []


def test_audience_counts_match_the_export(instance: Instance, people: dict[str, str]) -> None:
    with instance.db.read() as session:
        counts = instance.service(SharingService).audiences(session, OPERATOR, language="de")
    found = {(c.purpose, c.channel): c for c in counts}
    assert found[("newsletter", "email")].people == 3
    assert found[("newsletter", "email")].title != "newsletter"  # the notice's German title
    assert found[("repair_sms", "sms")].people == 0
    with instance.db.read() as session:
        assert session.execute(select(ConsentState).where(
            ConsentState.state == "active")).scalars().all()
