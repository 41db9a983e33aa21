"""After an erasure from `/my-data`, every recipient that received the person's data is
told once (GDPR Art. 19): a signed webhook where it has an endpoint (a real receiver on
loopback checks the signature with its own code), a task for staff where it has none;
recipients that never had the person's data hear nothing. The access report lists every
disclosure of the person and nobody else's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ehrlich.instance.service import Instance
from ehrlich.rights.links import my_data_token
from ehrlich.rights.report import report_csv, report_json
from ehrlich.rights.service import RightsService
from ehrlich.sharing.notifications import RecipientNotices
from ehrlich.sharing.service import SharingService
from ehrlich.sharing.webhooks import Webhooks
from ehrlich.storage.base import utcnow
from ehrlich.subjects.schemas import SubjectChanges
from tests.conftest import NOW
from tests.factories import new_subject, record
from tests.jobs import run_jobs
from tests.sharing.helpers import OPERATOR, request
from tests.sharing.receiver import Received, Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def _customer(instance: Instance, email: str) -> str:
    """A newsletter subscriber who also ordered (the carrier gets orders' addresses)."""
    sid = new_subject(instance, email, name="Hedwig Kiesler")
    record(instance, sid, "granted", notice_version=1)
    record(instance, sid, "granted", notice_version=1, purpose="orders",
           legal_basis="contract", text_shown=None, form=None)
    return sid


def _release(instance: Instance, recipient: str, purpose: str, subject_id: str) -> str:
    """Release the purpose's people to the recipient; the batch id as `subject_id` sees it."""
    sharing = instance.service(SharingService)
    file = sharing.release(request("csv", purpose=purpose, channel=""), recipient, OPERATOR,
                           now=NOW)
    b"".join(file.body)
    with instance.db.read() as session:
        [batch] = [d.batch_id for d in sharing.disclosures_of(session, subject_id)
                   if d.recipient == recipient]
    return batch


def _the_one_message(instance: Instance, receiver: Receiver, kind: str
                     ) -> tuple[Received, dict[str, Any]]:
    """The jobs run (twice: nothing is sent twice); the one message, signed, of `kind`."""
    run_jobs(instance)
    run_jobs(instance)
    [got] = receiver.received
    assert got.valid
    assert got.payload["type"] == kind
    return got, got.payload["data"]


def test_each_recipient_that_had_the_data_is_told_once(
        client: TestClient, published: Instance, receiver: Receiver) -> None:
    hedy = _customer(published, "hedy@example.org")
    bob = _customer(published, "bob@example.org")
    newsletter = _release(published, "mailer", "newsletter", hedy)
    orders = _release(published, "carrier", "orders", hedy)
    with published.db.write() as session:
        secret = published.service(Webhooks).set_endpoint(
            session, "mailer", receiver.url, actor="cli:operator", now=utcnow())
    receiver.secret = secret or ""

    token = my_data_token(published.keyring, subject_id=hedy, now=NOW)
    page = client.get(f"/my-data/{token}")
    assert "Who received your data" in page.text
    assert client.post(f"/my-data/{token}/erase", data={"confirm": "yes"}).status_code == 200
    got, data = _the_one_message(published, receiver, "subject.erased")
    assert data["subject_id"] == hedy
    assert [(r["batch_id"], r["purpose"]) for r in data["releases"]] == [
        (newsletter, "newsletter")]
    assert data["releases"][0]["fields"] == ["id", "email", "unsubscribe_url",
                                             "preferences_url"]
    for personal in (b"hedy", b"Hedwig", b"Kiesler", bob.encode()):
        assert personal not in got.body
    notices = published.service(RecipientNotices)
    with published.db.read() as session:
        [delivery] = published.service(Webhooks).deliveries(session, reference=hedy)
        [task] = notices.tasks(session)
    assert (delivery.recipient, delivery.status, delivery.attempts) == ("mailer",
                                                                         "delivered", 1)
    assert (task.recipient, task.reference, task.event) == ("carrier", hedy,
                                                            "subject.erased")
    assert orders != newsletter
    with published.db.write() as session:
        done = notices.mark_done(session, task.id, actor="staff:1",
                                 note="Mail to privacy@carrier.example", now=NOW)
    assert (done.done_by, done.done_at) == ("staff:1", NOW)
    with published.db.read() as session:
        assert notices.tasks(session) == []


def test_a_person_whose_data_went_nowhere_causes_no_notification(
        client: TestClient, published: Instance, receiver: Receiver) -> None:
    ada = new_subject(published, "ada@example.org")
    record(published, ada, "granted", notice_version=1)
    token = my_data_token(published.keyring, subject_id=ada, now=NOW)
    assert client.post(f"/my-data/{token}/erase", data={"confirm": "yes"}).status_code == 200
    run_jobs(published)
    assert receiver.received == []
    assert published.jobs.pending_count() == 0
    with published.db.read() as session:
        assert published.service(RecipientNotices).tasks(session) == []


def test_the_access_report_lists_the_persons_disclosures_and_nobody_elses(
        published: Instance) -> None:
    hedy = _customer(published, "hedy@example.org")
    others = [_customer(published, f"kim{n}@example.org") for n in range(5)]
    newsletter = _release(published, "mailer", "newsletter", hedy)
    _release(published, "carrier", "orders", hedy)
    made = published.service(RightsService).report(published.db, hedy, actor="test",
                                                   language="de", now=NOW)
    [section] = [s for s in made.sections if s.key == "disclosures"]
    assert section.title == "Wer Ihre Daten erhalten hat"
    assert sorted(row[0] for row in section.rows) == ["Postwerk Mailing GmbH", "Spree Kurier GmbH"]
    assert all(row[1] == NOW.strftime("%Y-%m-%d %H:%M UTC") for row in section.rows)
    for text in (report_json(made), report_csv(made)):
        assert "Postwerk Mailing GmbH" in text
        assert all(sid not in text for sid in others)
        assert all(f"kim{n}@" not in text for n in range(5))
    assert newsletter not in report_json(made)  # the batch is ours; the person sees what


def test_a_restores_replay_of_the_ledger_tells_nobody_twice(
        client: TestClient, published: Instance, receiver: Receiver) -> None:
    hedy = _customer(published, "hedy@example.org")
    _release(published, "mailer", "newsletter", hedy)
    _release(published, "carrier", "orders", hedy)
    with published.db.write() as session:
        receiver.secret = published.service(Webhooks).set_endpoint(
            session, "mailer", receiver.url, actor="cli:operator", now=utcnow()) or ""
    token = my_data_token(published.keyring, subject_id=hedy, now=NOW)
    assert client.post(f"/my-data/{token}/erase", data={"confirm": "yes"}).status_code == 200
    with published.db.write() as session:  # before the job ran, and again after
        published.subjects.replay_erasures(session, published.ledger.records(), now=NOW)
    run_jobs(published)
    with published.db.write() as session:
        published.subjects.replay_erasures(session, published.ledger.records(), now=NOW)
    run_jobs(published)
    assert len(receiver.received) == 1
    with published.db.read() as session:
        assert len(published.service(Webhooks).deliveries(session, reference=hedy)) == 1
        assert len(published.service(RecipientNotices).tasks(session, reference=hedy)) == 1
    assert published.jobs.pending_count() == 0


def _rectify(instance: Instance, subject_id: str, **fields: str) -> None:
    with instance.db.write() as session:
        instance.subjects.rectify(session, subject_id, SubjectChanges(**fields),
                                  actor="staff:1", now=NOW)


def test_a_corrected_field_is_told_to_each_recipient_that_had_it(
        published: Instance, receiver: Receiver) -> None:
    """Art. 19 covers rectification too: the recipients that received a field that was
    corrected are told which field (never its new value), by webhook or a staff task;
    a correction of a field nobody received tells nobody."""
    hedy = _customer(published, "hedy@example.org")
    newsletter = _release(published, "mailer", "newsletter", hedy)
    _release(published, "carrier", "orders", hedy)
    with published.db.write() as session:
        receiver.secret = published.service(Webhooks).set_endpoint(
            session, "mailer", receiver.url, actor="cli:operator", now=utcnow()) or ""
        carrier_fields = {f for d in published.service(SharingService).disclosures_of(
            session, hedy) if d.recipient == "carrier" for f in d.fields}
    notices = published.service(RecipientNotices)

    assert carrier_fields == {"id", "email"}  # orders' addresses: the carrier gets a task
    _rectify(published, hedy, name="Hedy Lamarr")  # the name went to nobody
    run_jobs(published)
    assert receiver.received == []
    with published.db.read() as session:
        assert notices.tasks(session) == []

    _rectify(published, hedy, email="hedy.lamarr@example.org")
    got, data = _the_one_message(published, receiver, "subject.rectified")
    assert (data["subject_id"], data["fields"]) == (hedy, ["email"])
    assert [r["batch_id"] for r in data["releases"]] == [newsletter]
    for personal in (b"hedy", b"Hedy", b"Lamarr", b"Kiesler"):
        assert personal not in got.body
    with published.db.read() as session:
        tasks = [(t.recipient, t.event, t.reference) for t in notices.tasks(session)]
    assert tasks == [("carrier", "subject.rectified", hedy)]
