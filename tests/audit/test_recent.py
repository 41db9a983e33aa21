"""`verify_recent`, for the console: between whole walks it verifies the entries after
the last one it verified, and that one still carrying its hash."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update

from ehrlich.audit.models import AuditEntry
from ehrlich.audit.service import FULL_WALK_EVERY, AuditEvent, ChainReport
from ehrlich.instance.service import Instance
from tests.conftest import NOW


def _append(instance: Instance, count: int) -> None:
    with instance.db.write() as session:
        instance.audit.record_many(session, [AuditEvent("token:a", "subject.read", f"s{n}")
                                             for n in range(count)], now=NOW)


def _recent(instance: Instance, *, later: timedelta = timedelta(0)) -> ChainReport:
    with instance.db.read() as session:
        return instance.audit.verify_recent(session, now=NOW + later)


def _alter(instance: Instance, seq: int) -> None:
    with instance.db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(actor="x"))


def test_new_entries_are_verified_and_counted(instance: Instance) -> None:
    _append(instance, 3)
    assert _recent(instance) == ChainReport(True, 3)
    _append(instance, 2)
    assert _recent(instance) == ChainReport(True, 5)
    _alter(instance, 5)
    report = _recent(instance)
    assert (report.ok, report.first_broken) == (False, 5)


def test_the_last_verified_entry_must_keep_its_hash(instance: Instance) -> None:
    _append(instance, 3)
    assert _recent(instance).ok
    _alter(instance, 3)
    report = _recent(instance)
    assert (report.ok, report.first_broken) == (False, 3)
    assert "after it was verified" in report.reason
    _append(instance, 1)
    assert not _recent(instance).ok  # a failure forgets the checkpoint: the whole walk fails


def test_older_entries_are_walked_again_after_the_interval(instance: Instance) -> None:
    _append(instance, 4)
    assert _recent(instance).ok
    _alter(instance, 2)
    assert _recent(instance, later=FULL_WALK_EVERY - timedelta(seconds=1)).ok
    report = _recent(instance, later=FULL_WALK_EVERY)
    assert (report.ok, report.first_broken) == (False, 2)


def test_removed_newest_entries_are_found(instance: Instance) -> None:
    _append(instance, 4)
    assert _recent(instance).ok
    _append(instance, 2)
    with instance.db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 6))
    assert not _recent(instance).ok
