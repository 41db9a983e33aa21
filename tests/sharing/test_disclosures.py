"""Releases to the notice's recipients (GDPR Art. 15(1)(c), 19): only people whose active
consent (or other declared basis) was given under a notice that named the recipient for the
purpose; each release a disclosure batch with one row per person, found again per person;
a recipient without a basis gets nobody."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.instance.service import Instance
from ehrlich.sharing.copies import CopiesService
from ehrlich.sharing.errors import NoBasisForRecipient
from ehrlich.sharing.models import Copy, Disclosure, DisclosureBatch
from ehrlich.sharing.service import SharingService
from tests.conftest import NOW
from tests.factories import publish_notice
from tests.sharing.helpers import OPERATOR, audit, person, request


def _release(instance: Instance, recipient: str, purpose: str = "newsletter",
             fmt: str = "csv") -> tuple[str, bytes]:
    file = instance.service(SharingService).release(
        request(fmt, purpose=purpose, channel=""), recipient, OPERATOR, now=NOW)
    return file.copy_id, b"".join(file.body)


def _count(instance: Instance, table: type) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize(("recipient", "purpose"), [
    ("carrier", "newsletter"),      # declared, but not for this purpose
    ("nobody", "newsletter"),       # not declared at all
    ("mailer", "no_such_purpose"),  # no such purpose
])
def test_a_recipient_without_a_basis_gets_nobody(
        instance: Instance, recipient: str, purpose: str) -> None:
    publish_notice(instance)
    person(instance, "ada@example.org")
    with pytest.raises(NoBasisForRecipient) as raised:
        _release(instance, recipient, purpose)
    assert "nobody was released" in raised.value.message
    for table in (Copy, DisclosureBatch, Disclosure):
        assert _count(instance, table) == 0
    assert audit(instance, "subject.contacts.read") == []
    assert audit(instance, "disclosure.released") == []


def test_only_consent_given_under_a_notice_naming_the_recipient_is_released(
        instance: Instance) -> None:
    version = publish_notice(instance)
    covered = person(instance, "ada@example.org", version=version)
    other_version = person(instance, "bob@example.org", version=version + 7)
    withdrawn = person(instance, "cyd@example.org", "granted", "withdrawn", version=version)
    copy_id, data = _release(instance, "mailer")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r["id"] for r in rows] == [covered]
    assert rows[0]["unsubscribe_url"].startswith(instance.settings.base_url)
    with instance.db.read() as session:
        [batch] = session.execute(select(DisclosureBatch)).scalars().all()
        released = set(session.execute(select(Disclosure.subject_id)).scalars())
    assert released == {covered}
    assert (batch.recipient, batch.purpose, batch.basis, batch.people, batch.copy_id) == (
        "mailer", "newsletter", "consent", 1, copy_id)
    assert batch.fields == "id,email,unsubscribe_url,preferences_url"
    assert batch.notice_versions == str(version)
    sharing = instance.service(SharingService)
    with instance.db.read() as session:
        [seen] = sharing.disclosures_of(session, covered)
        assert (seen.recipient, seen.purpose, seen.basis, seen.at) == (
            "mailer", "newsletter", "consent", NOW)
        assert sharing.recipients_of(session, covered) == ["mailer"]
        for nobody in (other_version, withdrawn):
            assert sharing.disclosures_of(session, nobody) == []
        copy = instance.service(CopiesService).get(session, copy_id, OPERATOR, now=NOW)
    assert (copy.kind, copy.what, copy.rows) == ("disclosure", "mailer:newsletter", 1)
    [entry] = audit(instance, "disclosure.released")
    detail = json.loads(entry.detail)
    assert (entry.target, detail["recipient"], detail["basis"]) == (
        batch.id, "mailer", "consent")
    [read] = audit(instance, "subject.contacts.read")
    detail = json.loads(read.detail)
    assert {k: detail[k] for k in ("field", "batch", "count")} == {
        "field": "email", "batch": f"disclosure:{batch.id}", "count": 1}
    with instance.db.read() as session:
        assert instance.subjects.read_list(session, detail["list"], detail["members"]) == [
            covered]


def test_another_declared_basis_is_recorded_and_carries_no_unsubscribe_link(
        instance: Instance) -> None:
    version = publish_notice(instance)
    customer = person(instance, "ada@example.org", version=version, purpose="orders",
                      legal_basis="contract")
    person(instance, "bob@example.org", version=version)  # newsletter only
    _, data = _release(instance, "carrier", "orders", fmt="ndjson")
    [line] = [json.loads(x) for x in data.splitlines()]
    assert line == {"id": customer, "email": "ada@example.org"}
    with instance.db.read() as session:
        [batch] = session.execute(select(DisclosureBatch)).scalars().all()
    assert (batch.basis, batch.fields) == ("contract", "id,email")


def test_a_recipient_pulls_its_release_with_a_token_scoped_to_it(
        instance: Instance, client: TestClient, make_token: Callable[..., str]) -> None:
    version = publish_notice(instance)
    ada = person(instance, "ada@example.org", version=version)
    mailer = {"Authorization": f"Bearer {make_token('recipient:mailer')}"}
    other = {"Authorization": f"Bearer {make_token('recipient:carrier', 'audience:read')}"}
    url = "/api/v1/recipients/mailer/release?purpose=newsletter"
    assert client.get(url, headers=other).status_code == 403
    assert client.get(url).status_code == 401
    assert _count(instance, DisclosureBatch) == 0
    refused = client.get("/api/v1/recipients/carrier/release?purpose=newsletter",
                         headers=other)
    assert refused.status_code == 422
    assert _count(instance, Disclosure) == 0
    got = client.get(url, headers=mailer)
    assert got.status_code == 200
    [line] = [json.loads(x) for x in got.text.splitlines()]
    assert (line["id"], line["email"]) == (ada, "ada@example.org")
    with instance.db.read() as session:
        [batch] = session.execute(select(DisclosureBatch)).scalars().all()
        assert instance.service(SharingService).recipients_of(session, ada) == ["mailer"]
    assert batch.copy_id is None
    assert batch.actor.startswith("token:")
    assert _count(instance, Copy) == 0
