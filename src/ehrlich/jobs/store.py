"""The queue's statements: enqueue, claim with a lease, renew, acknowledge, retry, fail.

One implementation for SQLite and PostgreSQL. A claim is one `UPDATE … RETURNING`
on the oldest due job; PostgreSQL skips rows other workers hold (`FOR UPDATE SKIP
LOCKED`), SQLite has one writer at a time (`BEGIN IMMEDIATE`) and needs nothing
more. A job is due when it is queued and its time has come, or when it is running
under a lease that ran out: its worker died, and the job is run again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ehrlich.jobs.models import FAILED, QUEUED, RUNNING, JobEffect, PeriodicSlot, QueuedJob
from ehrlich.storage.base import new_id


class LeaseLost(Exception):
    """Another worker took the job after this worker's lease ran out; roll back."""


BYTES_TAG = "$bytes"


def _tag(value: Any) -> Any:
    if isinstance(value, bytes):
        return {BYTES_TAG: base64.b64encode(value).decode()}
    raise TypeError(f"a job argument must be JSON or bytes, not {type(value).__name__}")


def _untag(value: dict[str, Any]) -> Any:
    if value.keys() == {BYTES_TAG}:
        return base64.b64decode(value[BYTES_TAG])
    return value


def dump_payload(args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]) -> str:
    """JSON, with bytes as `{"$bytes": base64}` (a sealed mail is bytes)."""
    return json.dumps({"args": list(args), "kwargs": kwargs}, default=_tag)


def load_payload(text: str) -> tuple[list[Any], dict[str, Any]]:
    payload = json.loads(text, object_hook=_untag)
    return payload["args"], payload["kwargs"]


@dataclass(frozen=True)
class Claimed:
    id: str
    task: str
    args: list[Any]
    kwargs: dict[str, Any]
    attempts: int
    claim: str


def add(session: Session, task: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
        now: datetime, delay: float = 0) -> str:
    job_id = new_id()
    session.execute(insert(QueuedJob).values(
        id=job_id, task=task, payload=dump_payload(args, kwargs),
        status=QUEUED, run_at=now + timedelta(seconds=delay), attempts=0, created_at=now))
    return job_id


def _due(now: datetime, skip: Collection[str]) -> Any:
    due = or_(and_(QueuedJob.status == QUEUED, QueuedJob.run_at <= now),
              and_(QueuedJob.status == RUNNING, QueuedJob.lease_until < now))
    return and_(due, QueuedJob.id.not_in(skip)) if skip else due


def any_due(session: Session, *, now: datetime, skip: Collection[str] = ()) -> bool:
    """A read before the claim, so an idle worker never takes SQLite's writer lock."""
    return session.execute(select(QueuedJob.id).where(_due(now, skip)).limit(1)).first() \
        is not None


def claim(session: Session, *, now: datetime, lease: float, worker: str = "",
          skip: Collection[str] = ()) -> Claimed | None:
    """Take the oldest due job under a new lease and claim token (none of `skip`)."""
    due = _due(now, skip)
    oldest = (select(QueuedJob.id).where(due).order_by(QueuedJob.run_at).limit(1)
              .with_for_update(skip_locked=True).scalar_subquery())
    token = new_id()
    row = session.execute(
        update(QueuedJob).where(QueuedJob.id == oldest).values(
            status=RUNNING, claim=token, lease_until=now + timedelta(seconds=lease),
            worker=worker or None, attempts=QueuedJob.attempts + 1)
        .returning(QueuedJob.id, QueuedJob.task, QueuedJob.payload, QueuedJob.attempts)
    ).one_or_none()
    if row is None:
        return None
    args, kwargs = load_payload(row.payload)
    return Claimed(row.id, row.task, args, kwargs, row.attempts, token)


def renew(session: Session, claims: list[str], *, now: datetime, lease: float) -> None:
    if claims:
        session.execute(update(QueuedJob).where(QueuedJob.claim.in_(claims))
                        .values(lease_until=now + timedelta(seconds=lease)))


def _held(job: Claimed) -> Any:
    return and_(QueuedJob.id == job.id, QueuedJob.claim == job.claim,
                QueuedJob.status == RUNNING)


def acknowledge(session: Session, job: Claimed) -> None:
    """The job is done: its row goes, with any effect marker, in `session`'s transaction."""
    if session.execute(delete(QueuedJob).where(_held(job))).rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(job.id)
    _forget_effect(session, job)


def begin_effect(session: Session, job: Claimed, *, now: datetime, lease: float) -> bool:
    """Mark an outside effect as begun, with the lease renewed for it in full; True if an
    earlier attempt had begun it too."""
    renewed = session.execute(update(QueuedJob).where(_held(job)).values(
        lease_until=now + timedelta(seconds=lease)))
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(job.id)
    try:
        with session.begin_nested():
            session.execute(insert(JobEffect).values(job_id=job.id, task=job.task,
                                                     started_at=now))
    except IntegrityError:
        return True
    return False


def _forget_effect(session: Session, job: Claimed) -> None:
    session.execute(delete(JobEffect).where(JobEffect.job_id == job.id))


def reschedule(session: Session, job: Claimed, *, now: datetime, delay: float,
               count_try: bool = True) -> None:
    """Try again later. The handler returned an error, so an effect it had begun did
    not happen (an SMTP transaction that failed delivered nothing): its mark goes."""
    _forget_effect(session, job)
    session.execute(update(QueuedJob).where(_held(job)).values(
        status=QUEUED, claim=None, lease_until=None,
        run_at=now + timedelta(seconds=delay),
        attempts=QueuedJob.attempts if count_try else QueuedJob.attempts - 1))


def fail(session: Session, job: Claimed, reason: str) -> None:
    """Tries used up or refused for good: kept for the operator, never run again."""
    _forget_effect(session, job)
    session.execute(update(QueuedJob).where(_held(job)).values(
        status=FAILED, claim=None, lease_until=None, failure=reason[:200]))


def take_slot(session: Session, task: str, slot: datetime) -> bool:
    """True for the one worker that gets to enqueue `task`'s run for `slot`."""
    try:
        with session.begin_nested():
            session.execute(insert(PeriodicSlot).values(task=task, slot=slot))
    except IntegrityError:
        return False
    return True


def forget_slots(session: Session, *, before: datetime) -> None:
    session.execute(delete(PeriodicSlot).where(PeriodicSlot.slot < before))


def oldest_ready(session: Session, *, now: datetime) -> datetime | None:
    """When the longest-waiting due job fell due (None when none is due)."""
    due: datetime | None = session.execute(select(func.min(QueuedJob.run_at)).where(
        QueuedJob.status == QUEUED, QueuedJob.run_at <= now)).scalar_one()
    return due


def counts(session: Session, *, now: datetime, task: str | None = None) -> dict[str, int]:
    """Jobs (of one `task`, or all) by state: `ready` (due now), `later`, `running`,
    `failed`."""
    query = select(
        func.count().filter(and_(QueuedJob.status == QUEUED, QueuedJob.run_at <= now)),
        func.count().filter(and_(QueuedJob.status == QUEUED, QueuedJob.run_at > now)),
        func.count().filter(QueuedJob.status == RUNNING),
        func.count().filter(QueuedJob.status == FAILED))
    if task is not None:
        query = query.where(QueuedJob.task == task)
    rows = session.execute(query).one()
    return dict(zip(("ready", "later", "running", "failed"), map(int, rows), strict=True))


def discard_restored(session: Session) -> int:
    """After a restore: drop the jobs the backup carried; how many.

    They were waiting when the backup was made and have run since (a mail sent, an
    import resumed), so running them again would do it twice; what was queued after
    the backup went with the database that the restore replaced. Periodic jobs come
    back at their next minute. A backup made before the queue moved into the
    database has no jobs table: nothing to drop (`ehrlich migrate` makes it).
    """
    if not inspect(session.connection()).has_table(QueuedJob.__tablename__):
        return 0
    dropped = session.execute(delete(QueuedJob)).rowcount  # type: ignore[attr-defined]
    session.execute(delete(JobEffect))
    session.execute(delete(PeriodicSlot))
    return int(dropped)
