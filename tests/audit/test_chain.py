"""The audit chain records every plaintext access and detects tampering."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from ehrlich.audit.models import AuditEntry
from ehrlich.instance.service import Instance
from ehrlich.subjects.schemas import SubjectChanges, SubjectInput
from tests.conftest import NOW


def _activity(instance: Instance) -> str:
    with instance.db.write() as session:
        sid = instance.subjects.create(session, SubjectInput(email="eve@example.org", name="Eve"),
                                       actor="token:a", now=NOW).subject.id
    with instance.db.write() as session:
        instance.subjects.get(session, sid, actor="token:b", now=NOW)
        instance.subjects.find(session, email="eve@example.org", actor="token:b", now=NOW)
        instance.subjects.rectify(session, sid, SubjectChanges(name="Eve Two"), actor="token:a",
                                  now=NOW)
    instance.subjects.erase(instance.db, sid, actor="token:c", now=NOW)
    return sid


def _entries(instance: Instance) -> list[AuditEntry]:
    with instance.db.read() as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def test_every_access_is_recorded_without_personal_data(instance: Instance) -> None:
    sid = _activity(instance)
    entries = _entries(instance)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("token:a", "subject.create", sid),
        ("token:b", "subject.read", sid),
        ("token:b", "subject.search", sid),
        ("token:a", "subject.rectify", sid),
        ("token:c", "subject.erase", sid),
    ]
    text = " ".join(f"{e.actor} {e.action} {e.target} {e.detail}" for e in entries).lower()
    assert "eve" not in text
    assert "example.org" not in text
    with instance.db.read() as session:
        assert instance.audit.verify_chain(session).ok


def _verify(instance: Instance) -> tuple[bool, int | None, str]:
    with instance.db.read() as session:
        report = instance.audit.verify_chain(session, batch=2)
    return report.ok, report.first_broken, report.reason


def test_changed_row_is_named(instance: Instance) -> None:
    _activity(instance)
    with instance.db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3)
                        .values(actor="token:someone-else"))
    ok, first, reason = _verify(instance)
    assert (ok, first) == (False, 3)
    assert "altered" in reason


def test_removed_row_is_named(instance: Instance) -> None:
    _activity(instance)
    with instance.db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    ok, first, reason = _verify(instance)
    assert (ok, first) == (False, 2)
    assert "missing" in reason


def test_reordered_rows_are_named(instance: Instance) -> None:
    _activity(instance)
    entries = {e.seq: e for e in _entries(instance)}
    a, b = entries[2], entries[4]
    with instance.db.write() as session:
        for seq, src in ((2, b), (4, a)):
            session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(
                actor=src.actor, action=src.action, target=src.target, detail=src.detail,
                prev_hash=src.prev_hash, hash=src.hash))
    ok, first, _ = _verify(instance)
    assert (ok, first) == (False, 2)


def test_removed_tail_is_detected(instance: Instance) -> None:
    _activity(instance)
    with instance.db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    ok, first, reason = _verify(instance)
    assert (ok, first) == (False, 5)
    assert "removed" in reason


def test_entries_rebuilt_without_the_key_do_not_verify(instance: Instance) -> None:
    """Someone with database access recomputes a hash with a guessed key: still caught."""
    import hashlib
    import hmac

    _activity(instance)
    e = _entries(instance)[0]
    forged = hmac.new(b"guess", e.prev_hash + e.actor.encode(), hashlib.sha256).digest()
    with instance.db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 1)
                        .values(action="subject.noop", hash=forged))
    ok, first, _ = _verify(instance)
    assert (ok, first) == (False, 1)
