"""Telling the recipients of a person's data that the person was erased, or that their
record was corrected (GDPR Art. 19).

An erasure (`SubjectsService.erase`, from `/my-data`, the staff queue, retention or
the API) runs the erasure hook `on_erasure` in its own transaction: when the
disclosure log shows that the person's data went to a recipient, it queues the job
`NOTIFY_TASK` there, so the erasure and the promise to tell commit together. The job
(`RecipientNotices.notify_erasure`) then, for each recipient that received the
data, in one transaction with its acknowledgement:

- queues a signed webhook (`sharing.webhooks`) `subject.erased` to the recipient's
  endpoint, or
- where the recipient has no endpoint, opens a task for staff (the console's
  Recipients page, `ehrlich recipients tasks`), closed with who told them and when.

The message carries only what lets the recipient find its own record: the subject
id, which was a column of every release (`id`), and the releases it had (batch id,
purpose, date, fields). Never the address or a name: they are unreadable by now,
and the recipient holds them already. See docs/erasure-notifications.md.

A rectification of a field that went to a recipient does the same through
`on_rectification` and `RecipientNotices.notify_rectification`: a `subject.rectified`
webhook naming the fields changed (not their new values), or a task for staff.

On a restore the ledger's erasures run the hook again; a person already told (a
delivery or task under their id) is not told twice, and the message id is derived
from recipient and person, so a message sent again after a restore to an older
backup carries the same `webhook-id` for the receiver to drop.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.errors import InvalidInput
from ehrlich.jobs import current_job
from ehrlich.jobs import store as job_store
from ehrlich.sharing.errors import TaskNotFound
from ehrlich.sharing.models import Disclosure, RecipientTask, WebhookDelivery
from ehrlich.sharing.schemas import DisclosureView
from ehrlich.sharing.service import disclosures_of
from ehrlich.sharing.webhooks import EndpointView, Webhooks
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database
from ehrlich.subjects.service import batch_hook

if TYPE_CHECKING:
    from ehrlich.sharing.service import SharingService
    from ehrlich.subjects.ledger import ErasureRecord

ERASED = "subject.erased"
RECTIFIED = "subject.rectified"
NOTIFY_TASK = "sharing.notify_erasure"
RECTIFY_TASK = "sharing.notify_rectification"
_MESSAGE_IDS = uuid.UUID("5f0b8a52-6d3e-4c1e-9a57-3b1f0e2d7c44")
MAX_NOTE = 300


def message_id(event: str, recipient: str, reference: str) -> str:
    """The same `webhook-id` for the same news to the same recipient, whenever sent."""
    return "msg_" + uuid.uuid5(_MESSAGE_IDS, f"{event}\n{recipient}\n{reference}").hex


def _on_erasure(session: Session, records: Sequence[ErasureRecord]) -> None:
    """Erasure hook: queue the recipients' notification for each person whose data was
    released and who was not told yet (indexed look-ups, 500 people at a time).
    Idempotent on a restore's replay."""
    for start in range(0, len(records), 500):
        chunk = {r.subject_id: r for r in records[start:start + 500]}
        released = set(session.execute(select(Disclosure.subject_id).where(
            Disclosure.subject_id.in_(chunk)).distinct()).scalars())
        if not released:
            continue
        told = set(session.execute(select(WebhookDelivery.reference).where(
            WebhookDelivery.reference.in_(released), WebhookDelivery.event == ERASED)
        ).scalars()) | set(session.execute(select(RecipientTask.reference).where(
            RecipientTask.reference.in_(released), RecipientTask.event == ERASED)).scalars())
        for subject_id, record in chunk.items():
            if subject_id in released and subject_id not in told:
                job_store.add(session, NOTIFY_TASK, (subject_id, record.erased_at.isoformat()),
                              {}, now=record.erased_at)


on_erasure = batch_hook(_on_erasure)


def on_rectification(session: Session, subject_id: str, fields: Sequence[str],
                     now: datetime) -> None:
    """Rectification hook: when a field that was released to a recipient changed, queue
    the job that tells them (GDPR Art. 19), in the rectification's transaction."""
    if any(set(fields) & set(r.fields) for r in disclosures_of(session, subject_id)):
        job_store.add(session, RECTIFY_TASK, (subject_id, now.isoformat(), sorted(fields)),
                      {}, now=now)


def _listed(releases: Iterable[DisclosureView]) -> list[dict[str, Any]]:
    """Releases as a message lists them: what the recipient can match its imports on."""
    return [{"batch_id": r.batch_id, "purpose": r.purpose, "released_at": r.at.isoformat(),
             "fields": list(r.fields)} for r in releases]


@dataclass(frozen=True)
class TaskView:
    id: str
    recipient: str
    event: str
    reference: str
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    note: str | None


@dataclass(frozen=True)
class RecipientOverview:
    id: str
    name: str
    endpoint: EndpointView | None
    failing: int
    open_tasks: int


def _task_view(row: RecipientTask) -> TaskView:
    return TaskView(row.id, row.recipient, row.event, row.reference, row.created_at,
                    row.done_at, row.done_by, row.note)


class RecipientNotices:
    """The notifications an erasure owes the recipients: webhooks, or tasks for staff."""

    def __init__(self, db: Database, audit: AuditLog, webhooks: Webhooks,
                 sharing: SharingService) -> None:
        self._db = db
        self._audit = audit
        self._webhooks = webhooks
        self._sharing = sharing

    def notify_erasure(self, session: Session, subject_id: str, *, erased_at: datetime,
                       now: datetime) -> dict[str, str]:
        """Per recipient that received the person's data: `webhook` or `task`."""
        outcome: dict[str, str] = {}
        releases = self._sharing.disclosures_of(session, subject_id)
        for recipient in sorted({r.recipient for r in releases}):
            data = {"subject_id": subject_id, "erased_at": erased_at.isoformat(),
                    "releases": _listed(r for r in releases if r.recipient == recipient)}
            outcome[recipient] = self._tell(
                session, recipient, ERASED, message_id(ERASED, recipient, subject_id), data,
                subject_id, now=now, again_when_done=False)
        if outcome:
            self._audit.record(session, AuditEvent("system", "recipients.erasure.notified",
                                                   subject_id, outcome), now=now)
        return outcome

    def notify_rectification(self, session: Session, subject_id: str, fields: Sequence[str],
                             *, rectified_at: datetime, now: datetime) -> dict[str, str]:
        """Per recipient that received one of the changed fields: `webhook` or `task`.

        The message names the fields, not their new values: the recipient fetches the
        record again where it may (a processor sync sends it by itself, as `changed`), or
        asks. A person corrected twice gets a message each time; an open task is not
        opened twice."""
        outcome: dict[str, str] = {}
        changed = set(fields)
        releases = [r for r in self._sharing.disclosures_of(session, subject_id)
                    if changed & set(r.fields)]
        for recipient in sorted({r.recipient for r in releases}):
            theirs = [r for r in releases if r.recipient == recipient]
            data = {"subject_id": subject_id, "rectified_at": rectified_at.isoformat(),
                    "fields": sorted(changed & {f for r in theirs for f in r.fields}),
                    "releases": _listed(theirs)}
            message = message_id(RECTIFIED, recipient,
                                 f"{subject_id}\n{rectified_at.isoformat()}")
            outcome[recipient] = self._tell(session, recipient, RECTIFIED, message, data,
                                            subject_id, now=now, again_when_done=True)
        if outcome:
            self._audit.record(session, AuditEvent("system", "recipients.rectification.notified",
                                                   subject_id, outcome), now=now)
        return outcome

    def _tell(self, session: Session, recipient: str, event: str, message: str,
              data: dict[str, Any], subject_id: str, *, now: datetime,
              again_when_done: bool) -> str:
        """A signed webhook where the recipient has an endpoint (`webhook`), else a task
        for staff (`task`), not opened twice for the same news: never again for an
        erasure, again once the last is done for a new correction (`again_when_done`)."""
        if self._webhooks.queue(session, recipient=recipient, event=event, message_id=message,
                                data=data, reference=subject_id, now=now) is not None:
            return "webhook"
        existing = select(RecipientTask.id).where(
            RecipientTask.recipient == recipient, RecipientTask.event == event,
            RecipientTask.reference == subject_id)
        if again_when_done:
            existing = existing.where(RecipientTask.done_at.is_(None))
        if session.execute(existing).first() is None:
            session.add(RecipientTask(id=new_id(), recipient=recipient, event=event,
                                      reference=subject_id, created_at=now))
        return "task"

    def run_notify_rectification(self, subject_id: str, rectified_at: str,
                                 fields: Sequence[str], *, now: datetime) -> dict[str, str]:
        """The job: the notifications and the job's end commit together."""
        with self._db.write() as session:
            outcome = self.notify_rectification(
                session, subject_id, fields, rectified_at=datetime.fromisoformat(rectified_at),
                now=now)
            current_job().acknowledge(session)
        return outcome

    def run_notify(self, subject_id: str, erased_at: str, *, now: datetime) -> dict[str, str]:
        """The job: the notifications and the job's end commit together."""
        with self._db.write() as session:
            outcome = self.notify_erasure(session, subject_id,
                                          erased_at=datetime.fromisoformat(erased_at), now=now)
            current_job().acknowledge(session)
        return outcome

    # -- endpoints ----------------------------------------------------------------------

    def set_endpoint(self, session: Session, recipient: str, url: str, *, actor: str,
                     now: datetime, rotate: bool = True) -> str | None:
        """Configure a recipient of the published notice's webhook endpoint; the new
        secret (show it once), or None when only the URL changed (`rotate=False`)."""
        declared = [r.id for r in self._sharing.declared_recipients(session)]
        if recipient not in declared:
            raise InvalidInput.one("recipient", f"{recipient!r} is not a recipient of the "
                                   f"published notice ({', '.join(declared) or 'none'})")
        return self._webhooks.set_endpoint(session, recipient, url, actor=actor, now=now,
                                           rotate=rotate)

    def overview(self, session: Session) -> list[RecipientOverview]:
        """Each recipient of the notice (and any with an endpoint): its endpoint, how many
        deliveries fail or were given up, how many tasks are open."""
        endpoints = {e.recipient: e for e in self._webhooks.endpoints(session)}
        names = {r.id: r.name for r in self._sharing.declared_recipients(session)}
        failing: dict[str, int] = dict(session.execute(
            select(WebhookDelivery.recipient, func.count()).where(
                WebhookDelivery.status.in_(("failing", "given-up"))).group_by(
                WebhookDelivery.recipient)).all())
        tasks: dict[str, int] = dict(session.execute(
            select(RecipientTask.recipient, func.count()).where(
                RecipientTask.done_at.is_(None)).group_by(RecipientTask.recipient)).all())
        return [RecipientOverview(rid, names.get(rid, rid), endpoints.get(rid),
                                  failing.get(rid, 0), tasks.get(rid, 0))
                for rid in [*names, *sorted(set(endpoints) - set(names))]]

    # -- tasks for staff ----------------------------------------------------------------

    def tasks(self, session: Session, *, open_only: bool = True, reference: str | None = None,
              recipient: str | None = None, limit: int = 200) -> list[TaskView]:
        """Oldest open tasks first (or every task, newest first)."""
        query = select(RecipientTask)
        if open_only:
            query = query.where(RecipientTask.done_at.is_(None)).order_by(
                RecipientTask.created_at, RecipientTask.id)
        else:
            query = query.order_by(RecipientTask.created_at.desc(), RecipientTask.id.desc())
        if reference is not None:
            query = query.where(RecipientTask.reference == reference)
        if recipient is not None:
            query = query.where(RecipientTask.recipient == recipient)
        return [_task_view(r) for r in session.execute(query.limit(limit)).scalars()]

    def open_count(self, session: Session) -> int:
        return int(session.execute(select(func.count()).select_from(RecipientTask).where(
            RecipientTask.done_at.is_(None))).scalar_one())

    def mark_done(self, session: Session, task_id: str, *, actor: str, note: str,
                  now: datetime) -> TaskView:
        """Staff told the recipient: who, when and how (the note) are recorded."""
        note = " ".join(note.split())
        if len(note) < 3:
            raise InvalidInput.one("note", "say how the recipient was told, e.g. "
                                   "'mail to privacy@carrier.example' (at least 3 characters)")
        if len(note) > MAX_NOTE:
            raise InvalidInput.one("note", f"at most {MAX_NOTE} characters")
        row = session.get(RecipientTask, task_id[:64])
        if row is None:
            raise TaskNotFound(f"no recipient task {task_id[:64]}; "
                               "`ehrlich recipients tasks` lists the open ones")
        if row.done_at is None:
            row.done_at, row.done_by, row.note = now, actor, note
            self._audit.record(session, AuditEvent(actor, "recipients.task.done", row.id, {
                "recipient": row.recipient, "event": row.event}), now=now)
        return _task_view(row)
