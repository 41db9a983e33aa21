"""Restoring a backup: into an empty or named database, never silently over a live one.

The erasure ledger is read before anything changes: a restore that cannot
replay it could bring erased people back, so it is refused. The replay takes the
newer of the live ledger and the backup's own copy of it (`replay.py`); erasures
only the copy holds are appended back to the live ledger. While the
target is being replaced the instance is in maintenance mode (no mail goes
out). Only when the ledger has been replayed and the key file proved to
match the restored data does maintenance mode end. The jobs the backup carried
are dropped: they ran after the backup was made (docs/jobs.md).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.backup import keys, snapshot
from ehrlich.backup.errors import RestoreRefused
from ehrlich.backup.reading import OpenedBackup, open_backup
from ehrlich.backup.replay import Source, erasures_to_replay, live_entries
from ehrlich.backup.schemas import RestoreReport
from ehrlich.backup.scratch import check_counts, counts_of
from ehrlich.backup.stores import open_store
from ehrlich.crypto import Keyring
from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Core, verify_key_checks
from ehrlich.jobs.store import discard_restored
from ehrlich.mail.maintenance import MaintenanceSwitch
from ehrlich.settings import Settings
from ehrlich.storage import migrate
from ehrlich.storage.database import Database
from ehrlich.subjects.ledger import ErasureLedger
from ehrlich.subjects.service import SubjectsService


def _is_live(url: str) -> bool:
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        if not path.exists() or path.stat().st_size == 0:
            return False
    db = Database(url)
    try:
        return migrate.is_initialised(db)
    finally:
        db.dispose()


def _load(opened: OpenedBackup, url: str, *, overwrite: bool) -> dict[str, int]:
    """Replace the target's contents with the dump; returns the restored row counts."""
    if opened.member == snapshot.SQLITE_MEMBER:
        conn = snapshot.sqlite_open_dump(opened.dump.path)
        try:
            counts = snapshot.sqlite_counts(conn)
            snapshot.sqlite_restore(conn, Path(make_url(url).database or ""))
        finally:
            conn.close()
        return counts
    engine = create_engine(url)
    try:
        with engine.connect() as pg_conn:
            major = snapshot.pg_major(pg_conn)
        snapshot.pg_restore(url, opened.dump, server_major=major, clean=overwrite)
        return counts_of(engine)
    finally:
        engine.dispose()


def _replay(url: str, keyring: Keyring, ledger: ErasureLedger, subjects: SubjectsService,
            audit: AuditLog, opened: OpenedBackup, *, actor: str, now: datetime
            ) -> tuple[int, Source]:
    """Check the key file fits the restored data, then erase again everyone erased."""
    backup_id, signed = opened.manifest.backup_id, opened.sidecar.signed
    db = Database(url)
    try:
        verify_key_checks(db, keyring)
        # Read again: erasures made while restoring count too.
        erasures = erasures_to_replay(ledger, opened)
        if erasures.missing_live:
            ledger.adopt(erasures.missing_live)
        records = erasures.records
        with db.write() as session:
            replayed = subjects.replay_erasures(session, records, now=now)
            detail: dict[str, object] = {"erasures_replayed": replayed,
                                         "ledger": erasures.source,
                                         "jobs_discarded": discard_restored(session)}
            if not signed:
                detail["unsigned"] = True  # accepted with --allow-unsigned
            audit.record(session, AuditEvent(actor, "backup.restore", backup_id, detail),
                         now=now)
        if not db.is_sqlite:  # so that deleted data keys leave the disk
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM"))
        # a dump carries no planner statistics: without them PostgreSQL may read one
        # person's consent through an index of the whole audience
        db.analyze()
    finally:
        db.dispose()
    return replayed, erasures.source


def _target_url(value: str) -> str:
    """The same URL forms the settings accept (postgresql:// means psycopg 3)."""
    try:
        return Settings._known_database(value)
    except ValueError as exc:
        raise InvalidInput.one("target", str(exc)) from exc


def restore_backup(core: Core, backup_id: str, *, identity_file: Path,
                   target_url: str | None, force: bool, now: datetime,
                   actor: str = "cli", allow_unsigned: bool = False) -> RestoreReport:
    """Restore `backup_id` into `target_url` (default: the instance's database).

    `core` comes from `ehrlich.domains.build_core`, so the replay runs every erasure
    hook the domains registered (suppressions come back with the erasures). A backup
    made before signing is refused unless `allow_unsigned`; the audit entry says so.
    """
    settings, keyring, ledger = core.settings, core.keyring, core.ledger
    configured = settings.backup_signing_public_key.strip()
    subjects, audit = core.subjects, core.audit
    live_entries(ledger)  # before anything changes: an unreadable ledger refuses the restore
    store = open_store(settings)
    try:
        with open_backup(store, backup_id, keys.load_identity(identity_file),
                         public_key=keys.signing_public_key(configured) if configured else None,
                         work_dir=snapshot.work_directory(settings.data_dir),
                         allow_unsigned=allow_unsigned) as opened:
            erasures_to_replay(ledger, opened)  # refused here if it cannot be replayed
            return _restore_opened(settings, opened, target_url=target_url,
                                   force=force, now=now, actor=actor, keyring=keyring,
                                   ledger=ledger, subjects=subjects, audit=audit)
    finally:
        store.close()


def _restore_opened(settings: Settings, opened: OpenedBackup, *,
                    target_url: str | None, force: bool, now: datetime, actor: str,
                    keyring: Keyring, ledger: ErasureLedger, subjects: SubjectsService,
                    audit: AuditLog) -> RestoreReport:
    backup_id = opened.manifest.backup_id
    url = _target_url(target_url) if target_url else settings.effective_database_url
    wanted = "sqlite" if opened.member == snapshot.SQLITE_MEMBER else "postgresql"
    if not url.startswith(wanted):
        raise InvalidInput.one("target", f"backup {backup_id} holds a {wanted} database; "
                                         f"name a {wanted} target")
    if _is_live(url) and not force:
        raise RestoreRefused("the target database already holds an ehrlich instance; "
                             "pass --force to replace it entirely with the backup")
    switch = MaintenanceSwitch(settings.effective_maintenance_file)
    with switch.held(reason=f"restore of {backup_id}", now=now):  # stays on if this fails
        counts = _load(opened, url, overwrite=force)
        check_counts(opened, counts)
        replayed, source = _replay(url, keyring, ledger, subjects, audit, opened,
                                   actor=actor, now=now)
    return RestoreReport(backup_id=backup_id, target=url.split("@")[-1], row_counts=counts,
                         erasures_replayed=replayed, signed=opened.sidecar.signed,
                         ledger=source)
