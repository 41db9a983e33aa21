"""The backup service: create, list, verify, prune, and the scheduled run.

Restores live in `restore.py`; they work without an opened instance.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import select, update

from ehrlich import __version__
from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.backup import keys, snapshot
from ehrlich.backup.archive import pack, tar_blocks
from ehrlich.backup.errors import BackupDamaged, BackupNotFound
from ehrlich.backup.interfaces import BackupStore
from ehrlich.backup.models import (
    RUN_COMPLETE,
    RUN_FAILED,
    RUN_RUNNING,
    BackupRun,
    BackupVerification,
)
from ehrlich.backup.reading import check_archive, open_backup, read_sidecar, sign_sidecar
from ehrlich.backup.replay import erasures_to_replay
from ehrlich.backup.retention import RetentionPolicy, keep, max_backup_age
from ehrlich.backup.schemas import (
    ARCHIVE_SUFFIX,
    LEDGER_MEMBER,
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
from ehrlich.backup.stores import open_store, second_destination
from ehrlich.crypto import SigningKey
from ehrlich.errors import ConfigurationError, IntegrityFailure
from ehrlich.settings import Settings
from ehrlich.storage.database import Database
from ehrlich.subjects.ledger import ErasureLedger
from ehrlich.subjects.service import SubjectsService

if TYPE_CHECKING:
    from pyrage import x25519


def new_backup_id(now: datetime) -> str:
    return f"ehrlich-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


class BackupService:
    def __init__(self, settings: Settings, db: Database, subjects: SubjectsService,
                 ledger: ErasureLedger, audit: AuditLog) -> None:
        self.settings, self._db = settings, db
        self._subjects, self._ledger, self._audit = subjects, ledger, audit

    def store(self, url: str | None = None) -> BackupStore:
        return open_store(self.settings, url)

    def stores(self) -> list[BackupStore]:
        """The destination and, when configured, the second one: each backup goes to both."""
        second = second_destination(self.settings)
        return [self.store()] + ([self.store(second)] if second else [])

    @property
    def destination(self) -> str:
        """Where backups go, as configured (nothing is opened to say so)."""
        return self.settings.effective_backup_destination

    @property
    def identity_file(self) -> Path:
        return self.settings.backup_identity or keys.default_identity_path(self.settings.key_file)

    @property
    def work_dir(self) -> Path:
        return snapshot.work_directory(self.settings.data_dir)

    @property
    def public_key(self) -> bytes | None:
        """The key every signed manifest must match; None before a signing key was made."""
        if not self.settings.backup_signing_public_key.strip():
            return None
        return keys.signing_public_key(self.settings.backup_signing_public_key)

    def _signing_key(self) -> SigningKey:
        path = keys.signing_key_path(self.settings)
        if not self.settings.backup_signing_public_key.strip():
            raise ConfigurationError("this instance has no backup signing key yet (it was made "
                                     "before backups were signed): run `ehrlich backup "
                                     "signing-key create`")
        key = keys.load_signing_key(path)
        if key.public_key != self.settings.backup_signing_public_key.strip():
            raise ConfigurationError(f"the backup signing key {path} does not match "
                                     "backup_signing_public_key")
        return key

    @property
    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(*self.settings.backup_keep)

    # -- what killed runs left -------------------------------------------------------

    def clean_up(self, stores: list[BackupStore], *, now: datetime) -> int:
        """Remove killed runs' `.partial-` files and mark their "running" rows failed."""
        removed = snapshot.discard_partials(self.work_dir)
        for store in stores:
            removed += store.discard_partials(now=now)
        with self._db.write() as session:
            rows = session.execute(select(BackupRun).where(BackupRun.status == RUN_RUNNING)
                                   ).scalars().all()
            for row in rows:
                if _run_is_gone(row.detail, started=row.started_at, now=now):
                    row.status, row.finished_at = RUN_FAILED, now
                    row.detail = ("interrupted: the process making it ended before it "
                                  f"finished ({row.detail})")[:2000]
                    removed += 1
        return removed

    # -- create ------------------------------------------------------------------

    def create(self, *, now: datetime, actor: str = "system") -> Sidecar:
        """Snapshot, pack, encrypt to every destination, read back, sign; the manifest last."""
        recipients = keys.parse_recipients(self.settings.backup_recipients)
        signing_key = self._signing_key()
        backup_id = new_backup_id(now)
        stores = self.stores()
        try:
            self.clean_up(stores, now=now)
            with self._db.write() as session:
                session.add(BackupRun(
                    id=backup_id, destination=" + ".join(s.url for s in stores)[:500],
                    status=RUN_RUNNING, started_at=now, detail=_running_detail()))
            try:
                sidecar = self._write(stores, backup_id, recipients, signing_key, now=now)
            except Exception as exc:
                with self._db.write() as session:
                    session.execute(update(BackupRun).where(BackupRun.id == backup_id).values(
                        status=RUN_FAILED, finished_at=now, detail=str(exc)[:2000]))
                raise
        finally:
            for store in stores:
                store.close()
        checked = "; ".join(f"read back and hash-checked at {s.url}" for s in stores)
        with self._db.write() as session:
            session.execute(update(BackupRun).where(BackupRun.id == backup_id).values(
                status=RUN_COMPLETE, finished_at=now, size=sidecar.archive_size,
                sha256=sidecar.archive_sha256, detail=checked[:2000]))
            self._audit.record(session, AuditEvent(actor, "backup.create", backup_id,
                                                   {"size": sidecar.archive_size,
                                                    "destinations": len(stores)}), now=now)
        return sidecar

    def _write(self, stores: list[BackupStore], backup_id: str,
               recipients: list[x25519.Recipient], signing_key: SigningKey, *,
               now: datetime) -> Sidecar:
        take = snapshot.sqlite_snapshot if self._db.is_sqlite else snapshot.pg_snapshot
        archive = backup_id + ARCHIVE_SUFFIX
        copy_path = snapshot.work_path(self.work_dir, f"{backup_id}.{LEDGER_MEMBER}")
        with take(self._db.engine, self.work_dir, backup_id) as snap, \
                _removed(copy_path):
            # After the snapshot: the copy holds every erasure the snapshot can hold.
            with _private_file(copy_path) as out:
                copied = self._ledger.write_copy(out)
            mark = LedgerMark(entries=copied.entries, last_erased_at=copied.last_erased_at)
            made: list[Manifest] = []

            def manifest(sha256: str) -> bytes:  # the dump's hash is known once it is packed
                made.append(Manifest(
                    backup_id=backup_id, created_at=now, ehrlich_version=__version__,
                    database="sqlite" if self._db.is_sqlite else "postgresql",
                    schema_revisions=snap.revisions, row_counts=snap.row_counts,
                    members={snap.dump.member: Member(size=snap.dump.size, sha256=sha256),
                             LEDGER_MEMBER: Member(size=copied.size, sha256=copied.sha256)},
                    ledger=mark))
                return made[0].model_dump_json(indent=2).encode()

            with contextlib.ExitStack() as outs, snap.dump.reader() as dump, \
                    copy_path.open("rb") as copy:
                targets = [outs.enter_context(store.writer(archive)) for store in stores]
                written = pack(targets, tar_blocks(
                    snap.dump.member, snap.dump.size, dump, manifest, mtime=now.timestamp(),
                    extra=[(LEDGER_MEMBER, copied.size, copy)]), recipients)
        sidecar = sign_sidecar(Sidecar(
            manifest=made[0], archive=archive, archive_size=written.size,
            archive_sha256=written.sha256, recipients=list(self.settings.backup_recipients)),
            signing_key)
        for store in stores:
            try:
                check_archive(store, sidecar)
            except BackupDamaged as exc:
                for each in stores:
                    each.delete(archive)
                raise BackupDamaged(f"backup {backup_id}: the archive read back from "
                                    f"{store.url} differs from what was written; it was "
                                    "removed") from exc
        for store in stores:
            with store.writer(backup_id + SIDECAR_SUFFIX) as out:
                out.write(sidecar.model_dump_json(indent=2).encode())
        return sidecar

    # -- list and prune ------------------------------------------------------------

    def sidecars(self, store: BackupStore) -> list[Sidecar]:
        """Complete backups (a readable manifest signed by this instance, or one made
        before signing, which has no signature at all), oldest first."""
        found, public_key = [], self.public_key
        for name in store.names():
            if name.endswith(SIDECAR_SUFFIX):
                try:
                    found.append(read_sidecar(store, name.removesuffix(SIDECAR_SUFFIX),
                                              public_key, allow_unsigned=True))
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
                verified_at=check.at if check else None, signed=s.signed))
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
    def recent_runs(self, limit: int = 10) -> list[BackupRun]:
        """The latest backup runs, newest first: running, failed and complete ones."""
        with self._db.read() as session:
            return list(session.execute(select(BackupRun).order_by(
                BackupRun.started_at.desc(), BackupRun.id.desc()).limit(limit)).scalars())

    def prune(self, *, now: datetime, actor: str = "system") -> list[str]:
        """Delete backups that grandfather-father-son retention no longer keeps, everywhere."""
        deleted: list[str] = []
        for store in self.stores():
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
            deleted += [s.manifest.backup_id for s in gone if s.manifest.backup_id not in deleted]
        return deleted

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
               actor: str = "system", allow_unsigned: bool = False) -> VerifyReport:
        """Hash, decrypt, restore into scratch, compare counts, replay erasures; record it.

        A backup made before signing is refused unless `allow_unsigned`; when it is
        verified that way, the audit entry says so."""
        try:
            report = self._verify(backup_id, identity_file or self.identity_file, now=now,
                                  allow_unsigned=allow_unsigned)
        except IntegrityFailure as exc:
            self._record(backup_id, ok=False, detail=exc.message, now=now, actor=actor)
            raise
        self._record(backup_id, ok=True, detail=report.detail, now=now, actor=actor,
                     unsigned=not report.signed)
        return report

    def _verify(self, backup_id: str, identity_file: Path, *, now: datetime,
                allow_unsigned: bool) -> VerifyReport:
        identity = keys.load_identity(identity_file)
        stores = self.stores()
        try:
            live = list(self._ledger.entries())
            server = self.settings.backup_scratch_database_url or self._db.url
            with open_backup(stores[0], backup_id, identity, public_key=self.public_key,
                             work_dir=self.work_dir, allow_unsigned=allow_unsigned
                             ) as opened, \
                    scratch_database(opened, server_url=server) as engine:
                records = erasures_to_replay(self._ledger, opened, live).records
                counts = counts_of(engine)
                check_counts(opened, counts)
                replayed = in_session(engine, lambda s: self._subjects.replay_erasures(
                    s, records, now=now))
                again = in_session(engine, lambda s: self._subjects.replay_erasures(
                    s, records, now=now))
            for other in stores[1:]:  # the same signed bytes: what restored above is there
                sidecar = read_sidecar(other, backup_id, self.public_key,
                                       allow_unsigned=allow_unsigned)
                if sidecar.archive_sha256 != opened.sidecar.archive_sha256:
                    raise BackupDamaged(f"backup {backup_id} differs between {stores[0].url} "
                                        f"and {other.url}")
                check_archive(other, sidecar)
        finally:
            for store in stores:
                store.close()
        if again:
            raise BackupDamaged(f"backup {backup_id}: {again} erasures did not hold after "
                                "replaying the ledger")
        where = " and ".join(s.url for s in stores)
        manifest = "signed manifest" if opened.sidecar.signed else \
            "UNSIGNED manifest (made before signing)"
        return VerifyReport(
            backup_id=backup_id, ok=True, row_counts=counts, erasures_replayed=replayed,
            signed=opened.sidecar.signed,
            detail=f"{sum(counts.values())} rows in {len(counts)} tables match the manifest; "
                   f"{replayed} erasures replayed and holding; {manifest} and archive "
                   f"checked at {where}")

    def _record(self, backup_id: str, *, ok: bool, detail: str, now: datetime,
                actor: str, unsigned: bool = False) -> None:
        details: dict[str, object] = {"ok": ok}
        if unsigned:
            details["unsigned"] = True  # accepted with --allow-unsigned
        with self._db.write() as session:
            session.add(BackupVerification(backup_id=backup_id, at=now, ok=ok,
                                           detail=detail[:2000]))
            self._audit.record(session, AuditEvent(actor, "backup.verify", backup_id,
                                                   details), now=now)

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


@contextlib.contextmanager
def _removed(path: Path) -> Iterator[None]:
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _private_file(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return open(fd, "wb")  # the caller closes it


def _running_detail() -> str:
    return f"running: process {os.getpid()} on {socket.gethostname()}"


def _run_is_gone(detail: str, *, started: datetime, now: datetime) -> bool:
    """A "running" row whose process on this host ended, or that ran longer than a day."""
    parts = detail.split()
    if len(parts) == 5 and parts[4] == socket.gethostname() and parts[2].isdigit():
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return now - started > timedelta(days=1)
