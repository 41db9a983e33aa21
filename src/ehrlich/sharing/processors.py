"""Processor sync: a purpose's audience pushed to a recipient of the published notice, as
CSV over SFTP or by signed webhook, then kept in step.

The selection is the one every release uses (`SharingService.basis`: people whose active
consent, or other declared basis, was given under a notice naming the recipient for the
purpose), and so is the record: each run that adds people opens a disclosure batch
(`SharingService.open_disclosure`) and logs each person before their data is decrypted,
so the person's access report names the processor, the fields, the time and the basis.

The first successful run pushes everyone ("full"); after that a run sends only the
changes since the last successful one: the people added, the ids of those who left
the audience (withdrawal, objection, suppression, erasure) as removals, and the people
held whose record was rectified since, as `changed` rows with their fields as they are
now (GDPR Art. 19: the processor's copy is corrected too; planned in
`processor_plans`). What the
processor holds is `processor_members`, updated only when a run succeeded, so a failed
run is sent again in full by the next one. Removals alone also go out every few minutes
(`removals_due`), whatever the sync's schedule: a withdrawal or an erasure reaches the
processor without waiting for the next push.

Only the fields the notice declares for the purpose (its data categories, of those a
person record holds: email and phone) can be synced, and the unsubscribe and preference
links when the basis is consent. Runs record counts and an error's type and message,
never a person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth.roles import Permission
from ehrlich.consent.ledger.audience import (
    DEFAULT_BATCH,
    still_in_audience,
)
from ehrlich.consent.signup.links import preferences_signer
from ehrlich.consent.unsubscribe.links import unsubscribe_signer
from ehrlich.crypto import Keyring
from ehrlich.errors import Conflict, NotFound
from ehrlich.notices.schemas import Notice, Purpose
from ehrlich.settings import Settings
from ehrlich.sharing.copies import Caller
from ehrlich.sharing.errors import NoBasisForRecipient, NoWebhookEndpoint
from ehrlich.sharing.models import ProcessorMember, ProcessorRun, ProcessorSync
from ehrlich.sharing.processor_plans import Plan, plan_run
from ehrlich.sharing.processor_pushes import Push, SftpPush, WebhookPush, WebhookQueue
from ehrlich.sharing.processor_settings import (
    CONTACT_FIELDS,
    LINK_COLUMNS,
    LINKS,
    SCHEDULES,
    STALE_RUN,
    Change,
    RunView,
    SyncSettings,
    SyncView,
    allowed_fields_of,
    checked_settings,
    endpoint_of,
)
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database
from ehrlich.subjects.service import SUBJECT, SubjectsService, contacts_query

log = logging.getLogger(__name__)


class ProcessorSyncService:
    """Configure, run and report the syncs to the notice's processors."""

    def __init__(self, settings: Settings, db: Database, keyring: Keyring, audit: AuditLog,
                 subjects: SubjectsService, sharing: _Sharing, *,
                 webhooks: WebhookQueue | None = None,
                 batch_size: int = DEFAULT_BATCH) -> None:
        self._settings = settings
        self._db = db
        self._keyring = keyring
        self._audit = audit
        self._subjects = subjects
        self._sharing = sharing
        self._webhooks = webhooks
        self.batch_size = batch_size

    # -- what the notice allows ----------------------------------------------------

    def allowed_fields(self, session: Session, recipient: str, purpose_id: str
                       ) -> tuple[str, ...]:
        """The fields a sync to `recipient` for the purpose may carry: the purpose's declared
        data categories that a person record holds, and the links for a consent basis.
        Raises `NoBasisForRecipient` when the notice does not name the recipient for it."""
        purpose, _ = self._sharing.basis(session, recipient, purpose_id)
        return allowed_fields_of(purpose)

    def targets(self, session: Session, recipient: str) -> list[Purpose]:
        """The published purposes that name `recipient` and have a channel to sync."""
        notice = self._sharing.notice(session)
        if notice is None or notice.recipient(recipient) is None:
            raise NoBasisForRecipient.one("recipient", f"the published notice does not name "
                                          f"{recipient!r} as a recipient")
        return [p for p in notice.purposes
                if recipient in p.recipients and p.channel in ("email", "sms", "phone")]

    # -- configuration -------------------------------------------------------------

    def configure(self, session: Session, recipient: str, purpose_id: str,
                  wanted: SyncSettings, caller: Caller, *, now: datetime
                  ) -> tuple[SyncView, str | None]:
        """Create or change the sync; every field's problem at once, nothing changed.
        For a webhook, the recipient's endpoint is set too: the second value is its new
        signing secret when it had none (show it once), else None."""
        caller.require(Permission.AUDIENCES_EXPORT)
        allowed = self.allowed_fields(session, recipient, purpose_id)
        wanted = checked_settings(wanted, allowed)
        row = self._row(session, recipient, purpose_id)
        secret = None
        if wanted.method == "webhook":
            if self._webhooks is None:
                raise NoWebhookEndpoint("webhooks are not available on this instance")
            known = self._webhooks.endpoint(session, recipient)
            secret = self._webhooks.set_endpoint(session, recipient, wanted.endpoint,
                                                 actor=caller.actor, now=now,
                                                 rotate=known is None)
        values = {"method": wanted.method, "fields": ",".join(wanted.fields),
                  "schedule": wanted.schedule,
                  "sftp_host": wanted.sftp_host, "sftp_port": wanted.sftp_port,
                  "sftp_user": wanted.sftp_user, "sftp_path": wanted.sftp_path,
                  "sftp_key": wanted.sftp_key, "sftp_known_hosts": wanted.sftp_known_hosts,
                  "updated_at": now, "updated_by": caller.actor}
        step = SCHEDULES[wanted.schedule]
        if row is None:
            row = ProcessorSync(id=new_id(), recipient=recipient, purpose=purpose_id,
                                next_run_at=now if step else None, **values)
            session.add(row)
        else:
            if row.method != wanted.method or _endpoint(row) != endpoint_of(wanted):
                # a new destination holds nobody yet: the next run pushes everyone
                session.execute(delete(ProcessorMember).where(
                    ProcessorMember.sync_id == row.id))
                row.last_success_at = None
            for key, value in values.items():
                setattr(row, key, value)
            row.next_run_at = (row.next_run_at or now) if step else None
        session.flush()
        self._audit.record(session, AuditEvent(caller.actor, "processor.configured", row.id, {
            "recipient": recipient, "purpose": purpose_id, "method": wanted.method,
            "fields": list(wanted.fields), "schedule": wanted.schedule}), now=now)
        return self._view(row, session), secret

    def get(self, session: Session, recipient: str, purpose_id: str, caller: Caller, *,
            runs: int = 10) -> SyncView | None:
        caller.require(Permission.AGGREGATES_READ)
        row = self._row(session, recipient, purpose_id)
        if row is None:
            return None
        found = session.execute(select(ProcessorRun).where(ProcessorRun.sync_id == row.id)
                                .order_by(ProcessorRun.started_at.desc(),
                                          ProcessorRun.id.desc()).limit(runs)).scalars()
        return replace(self._view(row, session), runs=[_run_view(r) for r in found])

    # -- runs ----------------------------------------------------------------------

    def run(self, recipient: str, purpose_id: str, caller: Caller, *, now: datetime,
            dry_run: bool = False, removals_only: bool = False) -> RunView:
        """One run: the changes since the last successful one (everyone the first time),
        or with `removals_only` just the people who left the audience. `dry_run` counts
        them and sends, records and discloses nothing.

        Refused with `NoBasisForRecipient` (nobody released) when the published notice
        no longer names the recipient for the purpose or the sync asks for a field it no
        longer declares."""
        caller.require(Permission.AUDIENCES_EXPORT)
        with self._db.read() as session:
            purpose, versions = self._sharing.basis(session, recipient, purpose_id)
            row = self._row(session, recipient, purpose_id)
            if row is None:
                raise NotFound(f"no sync to {recipient!r} for {purpose_id!r} is configured: "
                               f"configure it first (console: Processor sync)")
            sync = self._view(row, session)
        undeclared = sorted(set(sync.settings.fields) - set(allowed_fields_of(purpose)))
        if undeclared:
            raise NoBasisForRecipient.one("fields", f"the published notice no longer declares "
                                          f"{', '.join(undeclared)} for {purpose_id!r}: "
                                          "change the sync's fields; nobody was released")
        if removals_only and sync.last_success_at is None:
            return _nothing(caller, now)
        plan = plan_run(self._db, sync, purpose, versions, removals_only=removals_only,
                        batch_size=self.batch_size)
        if dry_run:
            return RunView("", "dry-run", caller.actor, now, now, "ok", len(plan.added),
                           len(plan.removed), None, "", len(plan.changed))
        if removals_only and not plan.removed:
            return _nothing(caller, now)
        run_id = self._claim(sync, plan, caller, now=now)
        try:
            return self._push(sync, purpose, versions, plan, run_id, caller, now=now)
        finally:
            with self._db.write() as session:
                session.execute(update(ProcessorSync).where(ProcessorSync.id == sync.id)
                                .values(running_since=None))

    def due(self, *, now: datetime) -> list[tuple[str, str]]:
        """(recipient, purpose) of the scheduled syncs whose time has come."""
        with self._db.read() as session:
            rows = session.execute(select(ProcessorSync.recipient, ProcessorSync.purpose)
                                   .where(ProcessorSync.next_run_at <= now)
                                   .order_by(ProcessorSync.next_run_at)).all()
        return [(r, p) for r, p in rows]

    def synced(self) -> list[tuple[str, str]]:
        """(recipient, purpose) of every sync that has pushed at least once."""
        with self._db.read() as session:
            rows = session.execute(select(ProcessorSync.recipient, ProcessorSync.purpose)
                                   .where(ProcessorSync.last_success_at.is_not(None))).all()
        return [(r, p) for r, p in rows]

    # -- parts ---------------------------------------------------------------------

    def _row(self, session: Session, recipient: str, purpose_id: str) -> ProcessorSync | None:
        return session.execute(select(ProcessorSync).where(
            ProcessorSync.recipient == recipient, ProcessorSync.purpose == purpose_id)
        ).scalar_one_or_none()

    def _view(self, row: ProcessorSync, session: Session) -> SyncView:
        hook = (self._webhooks.endpoint(session, row.recipient)
                if self._webhooks is not None and row.method == "webhook" else None)
        return SyncView(row.id, row.recipient, row.purpose, SyncSettings(
            row.method, tuple(f for f in row.fields.split(",") if f), row.schedule,
            hook.url if hook else "", row.sftp_host, row.sftp_port, row.sftp_user, row.sftp_path,
            row.sftp_key, row.sftp_known_hosts), row.next_run_at, row.last_success_at,
            row.updated_at, row.updated_by)

    def _claim(self, sync: SyncView, plan: Plan, caller: Caller, *, now: datetime) -> str:
        run_id = new_id()
        with self._db.write() as session:
            claimed = session.execute(
                update(ProcessorSync).where(ProcessorSync.id == sync.id,
                                            (ProcessorSync.running_since.is_(None))
                                            | (ProcessorSync.running_since < now - STALE_RUN))
                .values(running_since=now)).rowcount  # type: ignore[attr-defined]
            if not claimed:
                raise Conflict(f"a run of the sync to {sync.recipient!r} for "
                               f"{sync.purpose!r} is under way; try again when it finished")
            session.add(ProcessorRun(id=run_id, sync_id=sync.id, kind=plan.kind,
                                     actor=caller.actor, started_at=now, outcome="running",
                                     added=0, removed=len(plan.removed), detail=""))
        return run_id

    def _columns(self, sync: SyncView) -> tuple[str, ...]:
        fields = sync.settings.fields
        return ("id", *(f for f in CONTACT_FIELDS if f in fields),
                *(LINK_COLUMNS if LINKS in fields else ()))

    def _destination(self, sync: SyncView, *, now: datetime) -> Push:
        if sync.settings.method == "sftp":
            return SftpPush(sync.settings, sync.recipient, sync.purpose)
        if self._webhooks is None:
            raise NoWebhookEndpoint("webhooks are not available on this instance")
        return WebhookPush(self._db, self._webhooks, sync.recipient, sync.purpose, now=now)

    def _push(self, sync: SyncView, purpose: Purpose, versions: list[int], plan: Plan,
              run_id: str, caller: Caller, *, now: datetime) -> RunView:
        columns = self._columns(sync)
        batch_id: str | None = None
        if plan.added or plan.changed:
            with self._db.write() as session:
                batch_id = self._sharing.open_disclosure(
                    session, sync.recipient, purpose, versions, columns, caller,
                    copy_id=None, now=now)
                session.execute(update(ProcessorRun).where(ProcessorRun.id == run_id)
                                .values(batch_id=batch_id))
        pushed: list[str] = []
        resent: list[str] = []

        def changes() -> Iterator[Change]:
            for start in range(0, len(plan.removed), self.batch_size):
                yield Change("removed", [(sid,) for sid in
                                         plan.removed[start:start + self.batch_size]])
            for start in range(0, len(plan.added), self.batch_size):
                assert batch_id is not None
                rows = self._people(plan.added[start:start + self.batch_size], sync, purpose,
                                    versions, columns, batch_id, caller, now=now)
                pushed.extend(row[0] for row in rows)
                if rows:
                    yield Change("added", rows)
            for start in range(0, len(plan.changed), self.batch_size):
                assert batch_id is not None
                rows = self._people(plan.changed[start:start + self.batch_size], sync,
                                    purpose, versions, columns, batch_id, caller, now=now)
                resent.extend(row[0] for row in rows)
                if rows:
                    yield Change("changed", rows)

        try:
            self._destination(sync, now=now).send(run_id, plan.kind, columns, changes())
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("sync %s run %s failed: %s", sync.id, run_id, type(exc).__name__)
            with self._db.write() as session:
                session.execute(update(ProcessorRun).where(ProcessorRun.id == run_id).values(
                    outcome="failed", finished_at=now, added=len(pushed), changed=len(resent),
                    detail=detail))
                self._audit.record(session, AuditEvent(caller.actor, "processor.failed",
                                                       run_id, {"sync": sync.id,
                                                                "error": type(exc).__name__}),
                                   now=now)
            raise
        self._settle(sync, run_id, plan, pushed, caller, now=now, corrected=len(resent))
        with self._db.read() as session:
            return _run_view(session.get_one(ProcessorRun, run_id))

    def _people(self, chunk: list[str], sync: SyncView, purpose: Purpose, versions: list[int],
                columns: tuple[str, ...], batch_id: str, caller: Caller, *, now: datetime
                ) -> list[tuple[str, ...]]:
        """The chunk's rows, re-checked against the audience now (someone who withdrew
        since the run began is left out), each person logged in the disclosure batch
        before their fields are decrypted."""
        still = still_in_audience(self._db, purpose.id, purpose.channel, chunk,
                                  notice_versions=versions)
        ids = [sid for sid in chunk if sid in still]
        if not ids:
            return []
        self._sharing.log_disclosed(batch_id, ids)
        values: dict[str, dict[str, str]] = {sid: {} for sid in ids}
        for name in (c for c in columns if c in CONTACT_FIELDS):
            query = contacts_query(name).where(SUBJECT.id.in_(ids)).order_by(SUBJECT.id)
            with self._db.read() as session:
                rows = list(session.connection().execute(query).all())
            for sid, value in self._subjects.disclose_contacts(
                    self._db, rows, field=name, actor=caller.actor,
                    purpose=f"processor:{sync.recipient}/{purpose.id}", now=now,
                    batch=f"disclosure:{batch_id}"):
                values[sid][name] = value
        if LINK_COLUMNS[0] in columns:
            base = self._settings.base_url.rstrip("/")
            unsubscribe = unsubscribe_signer(self._keyring, purpose=purpose.id,
                                             channel=purpose.channel, now=now)
            preferences = preferences_signer(self._keyring, now=now)
            for sid in ids:
                values[sid]["unsubscribe_url"] = f"{base}/unsubscribe/{unsubscribe(sid)}"
                values[sid]["preferences_url"] = f"{base}/preferences/{preferences(sid)}"
        return [(sid, *(values[sid].get(c, "") for c in columns[1:])) for sid in ids]

    def _settle(self, sync: SyncView, run_id: str, plan: Plan, pushed: list[str],
                caller: Caller, *, now: datetime, corrected: int = 0) -> None:
        """What the processor holds now, after a successful run; when the next one is due."""
        step = SCHEDULES.get(sync.settings.schedule)
        with self._db.write() as session:
            for start in range(0, len(plan.removed), self.batch_size):
                session.execute(delete(ProcessorMember).where(
                    ProcessorMember.sync_id == sync.id,
                    ProcessorMember.subject_id.in_(plan.removed[start:start + self.batch_size])))
            for start in range(0, len(pushed), self.batch_size):
                session.execute(insert(ProcessorMember), [
                    {"sync_id": sync.id, "subject_id": sid}
                    for sid in pushed[start:start + self.batch_size]])
            changes: dict[str, object] = {}
            if plan.kind != "removals":
                changes["last_success_at"] = now
                changes["next_run_at"] = now + step if step else None
            if changes:
                session.execute(update(ProcessorSync).where(ProcessorSync.id == sync.id)
                                .values(**changes))
            session.execute(update(ProcessorRun).where(ProcessorRun.id == run_id).values(
                outcome="ok", finished_at=now, added=len(pushed), changed=corrected))
            self._audit.record(session, AuditEvent(caller.actor, "processor.synced", run_id, {
                "sync": sync.id, "recipient": sync.recipient, "purpose": sync.purpose,
                "kind": plan.kind, "added": len(pushed), "removed": len(plan.removed),
                "changed": corrected}),
                now=now)


class _Sharing(Protocol):
    """What a sync needs of `SharingService` (its selection and its disclosure log)."""

    def basis(self, session: Session, recipient: str, purpose_id: str
              ) -> tuple[Purpose, list[int]]: ...

    def notice(self, session: Session) -> Notice | None: ...

    def open_disclosure(self, session: Session, recipient: str, purpose: Purpose,
                        versions: list[int], columns: tuple[str, ...], caller: Caller, *,
                        copy_id: str | None, now: datetime) -> str: ...

    def log_disclosed(self, batch_id: str, subject_ids: list[str]) -> None: ...



def _nothing(caller: Caller, now: datetime) -> RunView:
    return RunView("", "removals", caller.actor, now, now, "ok", 0, 0, None, "")


def _run_view(r: ProcessorRun) -> RunView:
    return RunView(r.id, r.kind, r.actor, r.started_at, r.finished_at, r.outcome, r.added,
                   r.removed, r.batch_id, r.detail, r.changed)


def _endpoint(row: ProcessorSync) -> tuple[str, ...]:
    return (row.sftp_host, str(row.sftp_port), row.sftp_user, row.sftp_path)


