"""The backup service: create, list, verify, prune, and the scheduled run.

Restores live in `restore.py`; they work without an opened instance.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from pyrage import x25519
from sqlalchemy import select, update

from ehrlich import __version__
from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.backup import keys, snapshot
from ehrlich.backup.archive import pack
from ehrlich.backup.errors import BackupDamaged, BackupNotFound
from ehrlich.backup.interfaces import BackupStore
from ehrlich.backup.models import (
    RUN_COMPLETE,
    RUN_FAILED,
    RUN_RUNNING,
    BackupRun,
    BackupVerification,
)
from ehrlich.backup.reading import MANIFEST_MEMBER, open_backup, read_sidecar
from ehrlich.backup.retention import RetentionPolicy, keep, max_backup_age
from ehrlich.backup.schemas import (
    ARCHIVE_SUFFIX,
    SIDECAR_SUFFIX,
    BackupListing,
    LedgerMark,
    Manifest,
    Member,
    Sidecar,
    VerificationRecord,
    VerifyReport,
)
from ehrlich.backup.scratch import check_counts, counts_of, in_session, scratch_database
from ehrlich.backup.stores import open_store
from ehrlich.errors import IntegrityFailure
from ehrlich.settings import Settings
from ehrlich.storage.database import Database
from ehrlich.subjects.ledger import ErasureLedger
from ehrlich.subjects.service import SubjectsService

_READ_CHUNK = 1024 * 1024


def new_backup_id(now: datetime) -> str:
    return f"ehrlich-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


class BackupService:
    def __init__(self, settings: Settings, db: Database, subjects: SubjectsService,
                 ledger: ErasureLedger, audit: AuditLog) -> None:
        self.settings, self._db = settings, db
        self._subjects, self._ledger, self._audit = subjects, ledger, audit

    def store(self, url: str | None = None) -> BackupStore:
        return open_store(self.settings, url)

    @property
    def identity_file(self) -> Path:
        return self.settings.backup_identity or keys.default_identity_path(self.settings.key_file)

    @property
    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(*self.settings.backup_keep)

    def _ledger_mark(self) -> LedgerMark:
        entries, last = 0, None
        for record in self._ledger.records():
            entries, last = entries + 1, record.erased_at
        return LedgerMark(entries=entries, last_erased_at=last)

    # -- create ------------------------------------------------------------------

    def create(self, *, now: datetime, actor: str = "system") -> Sidecar:
        """Snapshot, pack, encrypt, upload, read back; the sidecar manifest goes last."""
        recipients = keys.parse_recipients(self.settings.backup_recipients)
        backup_id = new_backup_id(now)
        store = self.store()
        with self._db.write() as session:
            session.add(BackupRun(id=backup_id, destination=store.url, status=RUN_RUNNING,
                                  started_at=now, detail=""))
        try:
            sidecar = self._write(store, backup_id, recipients, now=now)
        except Exception as exc:
            with self._db.write() as session:
                session.execute(update(BackupRun).where(BackupRun.id == backup_id).values(
                    status=RUN_FAILED, finished_at=now, detail=str(exc)[:2000]))
            raise
        finally:
            store.close()
        with self._db.write() as session:
            session.execute(update(BackupRun).where(BackupRun.id == backup_id).values(
                status=RUN_COMPLETE, finished_at=now, size=sidecar.archive_size,
                sha256=sidecar.archive_sha256))
            self._audit.record(session, AuditEvent(actor, "backup.create", backup_id,
                                                   {"size": sidecar.archive_size}), now=now)
        return sidecar

    def _write(self, store: BackupStore, backup_id: str, recipients: list[x25519.Recipient],
               *, now: datetime) -> Sidecar:
        mark = self._ledger_mark()
        snap = (snapshot.sqlite_snapshot(self._db.engine) if self._db.is_sqlite
                else snapshot.pg_snapshot(self._db.engine))
        manifest = Manifest(
            backup_id=backup_id, created_at=now, ehrlich_version=__version__,
            database="sqlite" if self._db.is_sqlite else "postgresql",
            schema_revisions=snap.revisions, row_counts=snap.row_counts,
            members={snap.member: Member(size=len(snap.data),
                                         sha256=hashlib.sha256(snap.data).hexdigest())},
            ledger=mark)
        archive = backup_id + ARCHIVE_SUFFIX
        with store.writer(archive) as out:
            written = pack(out, [(snap.member, snap.data),
                                 (MANIFEST_MEMBER, manifest.model_dump_json(indent=2).encode())],
                           recipients, mtime=now.timestamp())
        del snap
        digest = hashlib.sha256()
        with store.reader(archive) as fh:
            while chunk := fh.read(_READ_CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != written.sha256:
            store.delete(archive)
            raise BackupDamaged(f"backup {backup_id}: the archive read back from {store.url} "
                                "differs from what was written; it was removed")
        sidecar = Sidecar(manifest=manifest, archive=archive, archive_size=written.size,
                          archive_sha256=written.sha256,
                          recipients=list(self.settings.backup_recipients))
        with store.writer(backup_id + SIDECAR_SUFFIX) as out:
            out.write(sidecar.model_dump_json(indent=2).encode())
        return sidecar

    # -- list and prune ------------------------------------------------------------

    def sidecars(self, store: BackupStore) -> list[Sidecar]:
        """Complete backups (those with a readable manifest), oldest first."""
        found = []
        for name in store.names():
            if name.endswith(SIDECAR_SUFFIX):
                try:
                    found.append(read_sidecar(store, name.removesuffix(SIDECAR_SUFFIX)))
                except IntegrityFailure:
                    continue  # `verify` names the problem; a listing stays readable
        return sorted(found, key=lambda s: (s.manifest.created_at, s.manifest.backup_id))

    def list_backups(self) -> list[BackupListing]:
        store = self.store()
        try:
            found = self.sidecars(store)
        finally:
            store.close()
        with self._db.read() as session:
            checks = session.execute(select(BackupVerification)
                                     .order_by(BackupVerification.at, BackupVerification.id)
                                     ).scalars().all()
        latest = {c.backup_id: c for c in checks}
        rows = []
        for s in found:
            check = latest.get(s.manifest.backup_id)
            rows.append(BackupListing(
                backup_id=s.manifest.backup_id, created_at=s.manifest.created_at,
                size=s.archive_size, destination=store.url,
                verified="never" if check is None else ("ok" if check.ok else "failed"),
                verified_at=check.at if check else None))
        return rows

    def last_verification(self) -> VerificationRecord | None:
        """The newest verification run here, passed or failed; from the database alone,
        so the overview need not list the destination."""
        with self._db.read() as session:
            row = session.execute(select(BackupVerification)
                                  .order_by(BackupVerification.at.desc(),
                                            BackupVerification.id.desc()).limit(1)
                                  ).scalar_one_or_none()
        if row is None:
            return None
        return VerificationRecord(backup_id=row.backup_id, at=row.at, ok=row.ok)

    def prune(self, *, now: datetime, actor: str = "system") -> list[str]:
        """Delete backups that grandfather-father-son retention no longer keeps."""
        store = self.store()
        try:
            found = self.sidecars(store)
            kept = keep([s.manifest.created_at for s in found], self.policy, now=now)
            gone = [s for s in found if s.manifest.created_at not in kept]
            for s in gone:
                store.delete(s.manifest.backup_id + SIDECAR_SUFFIX)  # no longer complete
                store.delete(s.archive)
        finally:
            store.close()
        if gone:
            with self._db.write() as session:
                self._audit.record(session, AuditEvent(actor, "backup.prune", store.url,
                                                       {"deleted": len(gone)}), now=now)
        return [s.manifest.backup_id for s in gone]

    # -- verify --------------------------------------------------------------------

    def latest_id(self) -> str:
        store = self.store()
        try:
            found = self.sidecars(store)
        finally:
            store.close()
        if not found:
            raise BackupNotFound(f"there are no complete backups at {store.url}")
        return found[-1].manifest.backup_id

    def verify(self, backup_id: str, *, now: datetime, identity_file: Path | None = None,
               actor: str = "system") -> VerifyReport:
        """Hash, decrypt, restore into scratch, compare counts, replay erasures; record it."""
        try:
            report = self._verify(backup_id, identity_file or self.identity_file, now=now)
        except IntegrityFailure as exc:
            self._record(backup_id, ok=False, detail=exc.message, now=now, actor=actor)
            raise
        self._record(backup_id, ok=True, detail=report.detail, now=now, actor=actor)
        return report

    def _verify(self, backup_id: str, identity_file: Path, *, now: datetime) -> VerifyReport:
        identity = keys.load_identity(identity_file)
        store = self.store()
        try:
            opened = open_backup(store, backup_id, identity)
        finally:
            store.close()
        records = list(self._ledger.records())
        server = self.settings.backup_scratch_database_url or self._db.url
        with scratch_database(opened, server_url=server) as engine:
            counts = counts_of(engine)
            check_counts(opened, counts)
            replayed = in_session(engine, lambda s: self._subjects.replay_erasures(
                s, records, now=now))
            again = in_session(engine, lambda s: self._subjects.replay_erasures(
                s, records, now=now))
        if again:
            raise BackupDamaged(f"backup {backup_id}: {again} erasures did not hold after "
                                "replaying the ledger")
        return VerifyReport(
            backup_id=backup_id, ok=True, row_counts=counts, erasures_replayed=replayed,
            detail=f"{sum(counts.values())} rows in {len(counts)} tables match the manifest; "
                   f"{replayed} erasures replayed and holding")

    def _record(self, backup_id: str, *, ok: bool, detail: str, now: datetime,
                actor: str) -> None:
        with self._db.write() as session:
            session.add(BackupVerification(backup_id=backup_id, at=now, ok=ok,
                                           detail=detail[:2000]))
            self._audit.record(session, AuditEvent(actor, "backup.verify", backup_id,
                                                   {"ok": ok}), now=now)

    # -- the scheduled job ------------------------------------------------------------

    def scheduled_run(self, *, now: datetime) -> VerifyReport:
        """Back up, verify that backup, and prune only when it verified."""
        sidecar = self.create(now=now, actor="scheduler")
        report = self.verify(sidecar.manifest.backup_id, now=now, actor="scheduler")
        self.prune(now=now, actor="scheduler")
        return report

    def max_backup_age(self, interval: timedelta = timedelta(days=1)) -> timedelta:
        """How long a backup (and erased data in it) can survive; the notice states it."""
        return max_backup_age(self.policy, interval)

    def stated_age_days(self) -> int | None:
        """The maximum backup age in days for the public notice, once backups are set up."""
        return self.max_backup_age().days if self.settings.backup_destination else None
