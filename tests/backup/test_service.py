"""Create, verify, restore and list on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from ehrlich.backup.errors import RestoreRefused
from ehrlich.backup.models import RUN_COMPLETE, BackupRun
from ehrlich.backup.restore import restore_backup
from ehrlich.domains import build_core, open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.maintenance import MaintenanceSwitch
from ehrlich.storage.database import Database
from ehrlich.subjects.errors import SubjectErased
from ehrlich.subjects.models import DataKey, Subject
from tests.backup.conftest import add_subjects
from tests.conftest import NOW


def test_create_verify_and_list(instance: Instance, ops_identity: Path) -> None:
    add_subjects(instance, 5)
    sidecar = instance.backup.create(now=NOW)
    manifest = sidecar.manifest
    assert manifest.row_counts["subjects"] == 5
    assert manifest.row_counts["data_keys"] == 5
    assert "0003_backups" in manifest.schema_revisions
    assert manifest.database == ("sqlite" if instance.db.is_sqlite else "postgresql")
    assert [r.verified for r in instance.backup.list_backups()] == ["never"]

    report = instance.backup.verify(manifest.backup_id, now=NOW + timedelta(minutes=1),
                                    identity_file=ops_identity)
    assert report.ok
    assert report.row_counts == manifest.row_counts
    listing = instance.backup.list_backups()
    assert [(r.backup_id, r.verified, r.size) for r in listing] == \
        [(manifest.backup_id, "ok", sidecar.archive_size)]
    with instance.db.read() as session:
        run = session.get(BackupRun, manifest.backup_id)
        assert run is not None
        assert run.status == RUN_COMPLETE
        assert run.sha256 == sidecar.archive_sha256


def test_archive_holds_no_plaintext(instance: Instance) -> None:
    add_subjects(instance, 3, prefix="findme")
    sidecar = instance.backup.create(now=NOW)
    store = instance.backup.store()
    with store.reader(sidecar.archive) as fh:
        raw = fh.read()
    assert raw.startswith(b"age-encryption.org/v1\n")
    assert b"subjects" not in raw
    assert b"CREATE TABLE" not in raw


def test_erased_after_backup_stays_erased_after_restore(
        instance: Instance, recovery_identity: Path, empty_target: str) -> None:
    keep_id, gone_id = add_subjects(instance, 2)
    instance.jobs.enqueue("auth.purge_expired_sessions")  # waiting when the backup is made
    sidecar = instance.backup.create(now=NOW)
    instance.subjects.erase(instance.db, gone_id, actor="test", now=NOW + timedelta(hours=1))

    report = restore_backup(build_core(instance.settings), sidecar.manifest.backup_id,
                            identity_file=recovery_identity, target_url=empty_target,
                            force=False, now=NOW + timedelta(hours=2))
    assert report.erasures_replayed == 1
    assert not MaintenanceSwitch(instance.settings.effective_maintenance_file).is_on()
    restored = open_instance(instance.settings.model_copy(
        update={"database_url": empty_target}))
    try:
        with restored.db.read() as session:
            actions = session.execute(text(
                "SELECT action FROM audit_entries ORDER BY seq DESC LIMIT 2")).scalars().all()
            assert actions == ["backup.restore", "subject.erase.replay"]
            assert restored.audit.verify_chain(session).ok
        with restored.db.write() as session:
            assert restored.subjects.get(session, keep_id, actor="t", now=NOW).email == \
                "person0@example.org"
            with pytest.raises(SubjectErased):
                restored.subjects.get(session, gone_id, actor="t", now=NOW)
            row = session.get(Subject, gone_id)
            assert row is not None
            assert (row.email_ct, row.email_index, row.state) == (None, None, "erased")
            assert session.get(DataKey, gone_id) is None
        assert restored.jobs.pending_count() == 0  # ran since the backup: not run twice
    finally:
        restored.close()


def test_restore_over_live_database_needs_force(instance: Instance,
                                                recovery_identity: Path) -> None:
    first, second = add_subjects(instance, 2)
    backup_id = instance.backup.create(now=NOW).manifest.backup_id
    instance.subjects.erase(instance.db, second, actor="test", now=NOW + timedelta(hours=1))
    add_subjects(instance, 1, prefix="later")

    with pytest.raises(RestoreRefused, match="--force"):
        restore_backup(build_core(instance.settings), backup_id, identity_file=recovery_identity,
                       target_url=None, force=False, now=NOW)
    with instance.db.read() as session:  # nothing changed
        assert len(session.execute(select(Subject.id)).all()) == 3

    restore_backup(build_core(instance.settings), backup_id, identity_file=recovery_identity,
                   target_url=None, force=True, now=NOW + timedelta(hours=2))
    instance.db.dispose()
    with instance.db.write() as session:
        states = dict(session.execute(select(Subject.id, Subject.state)).all())
        assert states == {first: "active", second: "erased"}
        assert instance.subjects.get(session, first, actor="t", now=NOW).name == "Name 0"


def test_restore_refused_when_ledger_unreadable(instance: Instance, recovery_identity: Path,
                                                empty_target: str) -> None:
    _, gone = add_subjects(instance, 2)
    backup_id = instance.backup.create(now=NOW).manifest.backup_id
    instance.subjects.erase(instance.db, gone, actor="test", now=NOW)
    engine = create_engine(instance.settings.effective_ledger_url)
    with engine.begin() as conn:  # an edited row breaks the chain
        conn.execute(text("UPDATE erasure_ledger SET entry = replace(entry, 'erased_at', "
                          "'erased_on')"))
    engine.dispose()
    with pytest.raises(RestoreRefused, match="erasure ledger"):
        restore_backup(build_core(instance.settings), backup_id, identity_file=recovery_identity,
                       target_url=empty_target, force=False, now=NOW)
    assert not MaintenanceSwitch(instance.settings.effective_maintenance_file).is_on()


def test_restore_replays_the_backups_copy_when_the_ledger_lost_entries(
        instance: Instance, recovery_identity: Path, empty_target: str, tmp_path: Path) -> None:
    _, gone = add_subjects(instance, 2)
    instance.subjects.erase(instance.db, gone, actor="test", now=NOW)
    backup_id = instance.backup.create(now=NOW).manifest.backup_id
    # The ledger database was lost and replaced by an empty one.
    fresh = instance.settings.model_copy(update={
        "ledger_url": f"sqlite:///{tmp_path / 'fresh' / 'ledger.sqlite3'}"})
    core = build_core(fresh)
    try:
        report = restore_backup(core, backup_id, identity_file=recovery_identity,
                                target_url=empty_target, force=False, now=NOW)
        assert report.ledger == "backup copy"
        assert [r.subject_id for r in core.ledger.records()] == [gone]  # appended back
    finally:
        core.close()
    restored = Database(empty_target)
    try:
        with restored.read() as session:
            assert session.get(Subject, gone).state == "erased"  # type: ignore[union-attr]
    finally:
        restored.dispose()


def test_wrong_key_file_keeps_maintenance_mode(instance: Instance, recovery_identity: Path,
                                               empty_target: str, tmp_path: Path) -> None:
    from ehrlich.crypto.keyfile import create_key_file

    add_subjects(instance, 1)
    backup_id = instance.backup.create(now=NOW).manifest.backup_id
    other_key = tmp_path / "other" / "ehrlich.key"
    create_key_file(other_key)
    settings = instance.settings.model_copy(update={"key_file": other_key})
    with pytest.raises(Exception, match="key"):
        restore_backup(build_core(settings), backup_id, identity_file=recovery_identity,
                       target_url=empty_target, force=False, now=NOW)
    switch = MaintenanceSwitch(instance.settings.effective_maintenance_file)
    assert switch.is_on()  # no mail until a restore finishes
    assert switch.reason() == f"restore of {backup_id}"
