"""Erasing many people at once (`erase_many`) ends where erasing them one by one does,
writes nothing for an unknown id, skips who is already erased, and keeps the ledger's
promise: a crash after the ledger append and before the commit is replayed as erased."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.ledger.service import current_state, history
from ehrlich.consent.ledger.suppression import is_suppressed
from ehrlich.instance.service import Instance
from ehrlich.sharing.models import Disclosure, DisclosureBatch, RecipientTask
from ehrlich.storage.base import new_id
from ehrlich.subjects.errors import SubjectNotFound
from ehrlich.subjects.models import DataKey, Subject
from tests.conftest import NOW
from tests.factories import new_subject, subject_with_consent
from tests.jobs import run_jobs
from tests.subjects.test_at_rest import _stored_bytes


def _people(instance: Instance, tag: str, n: int) -> list[str]:
    return [subject_with_consent(instance, f"{tag}{i}.zebedee@example.org") for i in range(n)]


def _end_state(instance: Instance, sid: str, email: str) -> tuple[object, ...]:
    index = instance.subjects.email_index(email)
    with instance.db.read() as session:
        subject = session.get(Subject, sid)
        assert subject is not None
        last = history(session, sid)[-1]
        actions = list(session.execute(select(AuditEntry.action).where(
            AuditEntry.target == sid).order_by(AuditEntry.seq)).scalars())
        return (subject.state, subject.email_index, subject.email_ct, subject.name_ct,
                session.get(DataKey, sid) is None,
                current_state(session, sid, "newsletter", "email"),
                (last.action, last.method, tuple(sorted((last.extra or {}).items()))),
                is_suppressed(session, index, "newsletter"), tuple(actions))


def test_erase_many_ends_where_one_by_one_does(instance: Instance) -> None:
    single = _people(instance, "single", 2)
    batch = _people(instance, "batch", 3)
    for sid in single:
        instance.subjects.erase(instance.db, sid, actor="t", now=NOW)
    erased = instance.subjects.erase_many(instance.db, batch, actor="t", now=NOW, chunk=2)
    assert erased == batch
    one = {_end_state(instance, sid, f"single{i}.zebedee@example.org")
           for i, sid in enumerate(single)}
    many = {_end_state(instance, sid, f"batch{i}.zebedee@example.org")
            for i, sid in enumerate(batch)}
    assert one == many
    [state] = one
    assert state[:8] == ("erased", None, None, None, True, "withdrawn",
                         ("withdrawn", "system", (("reason", "erasure"),)), True)
    assert list(state[8])[-2:] == ["consent.withdrawn", "subject.erase"]
    # the chain verifies, in the order of the erasures
    assert [r.subject_id for r in instance.ledger.records()] == [*single, *batch]
    with instance.db.read() as session:
        assert instance.audit.verify_chain(session).ok
    if instance.db.is_sqlite:  # physically gone from the files too
        raw = _stored_bytes(instance).lower()
        assert b"zebedee" not in raw


def test_each_recipient_is_told_once_per_person(instance: Instance) -> None:
    people = _people(instance, "told", 3)
    released = people[:2]
    with instance.db.write() as session:
        for recipient in ("mailer", "mailer", "carrier"):  # two releases to the mailer
            batch_id = new_id()
            session.execute(insert(DisclosureBatch).values(
                id=batch_id, recipient=recipient, purpose="newsletter", channel="email",
                basis="consent", fields="id,email", notice_versions="1", actor="t", at=NOW,
                people=len(released)))
            session.execute(insert(Disclosure), [
                {"batch_id": batch_id, "subject_id": sid} for sid in released])
    instance.subjects.erase_many(instance.db, people, actor="t", now=NOW)
    run_jobs(instance)
    run_jobs(instance)
    with instance.db.read() as session:
        tasks = sorted(session.execute(select(RecipientTask.recipient,
                                              RecipientTask.reference)).all())
    assert tasks == sorted((r, sid) for r in ("carrier", "mailer") for sid in released)


def _erase_count(instance: Instance) -> int:
    with instance.db.read() as session:
        return session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "subject.erase")).scalar_one()


def test_an_unknown_id_changes_nothing(instance: Instance) -> None:
    sid = new_subject(instance, "stays@example.org")
    with pytest.raises(SubjectNotFound):
        instance.subjects.erase_many(instance.db, [sid, "00000000-0000-4000-8000-000000000000"],
                                     actor="t", now=NOW)
    with instance.db.read() as session:
        subject = session.get(Subject, sid)
        assert subject is not None
        assert subject.state == "active"
        assert session.get(DataKey, sid) is not None
    assert list(instance.ledger.records()) == []
    assert _erase_count(instance) == 0


def test_who_is_already_erased_is_skipped(instance: Instance) -> None:
    first, second = new_subject(instance, "a@example.org"), new_subject(instance, "b@example.org")
    instance.subjects.erase(instance.db, first, actor="t", now=NOW)
    assert instance.subjects.erase_many(instance.db, [first, second, first], actor="t",
                                        now=NOW) == [second]
    assert instance.subjects.erase_many(instance.db, [first, second], actor="t",
                                        now=NOW) == []
    assert [r.subject_id for r in instance.ledger.records()] == [first, second]
    assert _erase_count(instance) == 2


def test_a_crash_after_the_ledger_append_is_replayed_as_erased(instance: Instance) -> None:
    people = _people(instance, "crash", 3)

    def crash(_session: Session) -> None:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        instance.subjects.erase_many(instance.db, people, actor="t", now=NOW, within=crash)
    # the ledger was durable first; the main transaction never committed
    assert [r.subject_id for r in instance.ledger.records()] == people
    with instance.db.read() as session:
        assert {s.state for s in session.execute(select(Subject)).scalars()} == {"active"}
    with instance.db.write() as session:
        replayed = instance.subjects.replay_erasures(session, instance.ledger.records(),
                                                     now=NOW)
    assert replayed == 3
    with instance.db.read() as session:
        assert {s.state for s in session.execute(select(Subject)).scalars()} == {"erased"}
        assert session.execute(select(DataKey)).first() is None
        for sid in people:
            assert current_state(session, sid, "newsletter", "email") == "withdrawn"
