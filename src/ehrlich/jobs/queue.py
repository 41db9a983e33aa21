"""`JobQueue`: tasks registered by name, enqueued as rows of the database's `jobs` table.

A job is acknowledged (its row deleted) only after its handler has finished; a
worker that dies leaves the row under a lease that runs out, and another worker
runs the job again. Handlers are therefore run at least once and must be
idempotent: a handler whose effect is in the database acknowledges the job in
the effect's own transaction (`current_job().acknowledge(session)`), so effect
and acknowledgement commit together or not at all; one whose effect lies
outside (an SMTP transaction) marks it begun first (`begin_effect`). See
docs/jobs.md.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ehrlich.errors import ConfigurationError
from ehrlich.jobs import store
from ehrlich.jobs.schedule import Schedule
from ehrlich.storage.base import utcnow
from ehrlich.storage.database import Database

Handler = Callable[..., Any]


class RetryLater(Exception):
    """Run the job again after `delay` seconds; `count_try=False` keeps its tries."""

    def __init__(self, delay: float, *, count_try: bool = True) -> None:
        super().__init__(f"retry in {delay:g} s")
        self.delay = delay
        self.count_try = count_try


class GiveUp(Exception):
    """The job can never succeed: keep it as failed, do not retry."""


@dataclass(frozen=True)
class Task:
    name: str
    handler: Handler
    retries: int = 0
    retry_delay: float = 0
    retry_backoff: float = 0

    def delay_after(self, attempt: int) -> float:
        """The wait before try `attempt + 1`: fixed, or multiplied by the backoff each time."""
        if self.retry_backoff <= 0:
            return self.retry_delay
        return float(self.retry_delay * self.retry_backoff ** (attempt - 1))


@dataclass(frozen=True)
class Periodic:
    task: str
    schedule: Schedule


class JobRun:
    """The job a handler is running: its id, try, and the two transactional steps."""

    def __init__(self, db: Database, claimed: store.Claimed, *, lease: float) -> None:
        self._db = db
        self.claimed = claimed
        self.lease = lease
        self.acknowledged = False

    @property
    def id(self) -> str:
        return self.claimed.id

    @property
    def attempt(self) -> int:
        return self.claimed.attempts

    def acknowledge(self, session: Session) -> None:
        """Done, in `session`'s transaction; raises `LeaseLost` (roll back) if another
        worker has taken the job since."""
        store.acknowledge(session, self.claimed)
        self.acknowledged = True

    def begin_effect(self, *, now: datetime) -> bool:
        """Record that an outside effect starts now, committed before it, and renew the
        lease for it; True if an earlier try had begun it (so it may have happened)."""
        with self._db.write() as session:
            return store.begin_effect(session, self.claimed, now=now, lease=self.lease)


_current: contextvars.ContextVar[JobRun] = contextvars.ContextVar("ehrlich_job")


def current_job() -> JobRun:
    """The job this thread runs; only inside a handler."""
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError("current_job() is only known inside a job's handler") from None


class JobQueue:
    """Tasks are registered by name once per process and enqueued by name."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self.tasks: dict[str, Task] = {}
        self.periodic_tasks: dict[str, Periodic] = {}
        self._listeners: list[Callable[[], None]] = []

    def task(self, name: str, *, retries: int = 0, retry_delay: float = 0,
             retry_backoff: float = 0) -> Callable[[Handler], Handler]:
        """`retry_backoff` multiplies the delay after each failed try (0: fixed delay)."""
        def register(fn: Handler) -> Handler:
            self.tasks[name] = Task(name, fn, retries, retry_delay, retry_backoff)
            return fn

        return register

    def periodic(self, name: str, schedule: Schedule, *, retries: int = 0,
                 retry_delay: float = 0) -> Callable[[Handler], Handler]:
        """A task enqueued once per due minute across all workers (see `store.take_slot`)."""
        def register(fn: Handler) -> Handler:
            self.task(name, retries=retries, retry_delay=retry_delay)(fn)
            self.periodic_tasks[name] = Periodic(name, schedule)
            return fn

        return register

    def enqueue(self, name: str, *args: Any, **kwargs: Any) -> str:
        """Queue a job in a transaction of its own; returns its id."""
        with self.db.write() as session:
            return self.enqueue_in(session, name, *args, **kwargs)

    def enqueue_in(self, session: Session, name: str, *args: Any, **kwargs: Any) -> str:
        """Queue a job in the caller's transaction: it exists if and only if that commits."""
        if name not in self.tasks:
            raise ConfigurationError(f"no job named {name!r} is registered")
        if self._listeners:
            event.listen(session, "after_commit", lambda _session: self._wake(), once=True)
        return store.add(session, name, args, kwargs, now=self.clock())

    @property
    def task_names(self) -> frozenset[str]:
        return frozenset(self.tasks)

    def counts(self, task: str | None = None) -> dict[str, int]:
        """Jobs (of one `task`, or all) `ready`, waiting until `later`, `running` and
        `failed`."""
        with self.db.read() as session:
            return store.counts(session, now=self.clock(), task=task)

    def pending_count(self) -> int:
        """Jobs not yet done and not given up: ready, later or running."""
        counts = self.counts()
        return counts["ready"] + counts["later"] + counts["running"]

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        """A worker in this process wakes at once instead of at its next poll."""
        self._listeners.append(listener)

    def _wake(self) -> None:
        for listener in self._listeners:
            listener()

    def close(self) -> None:
        """The queue holds no connection of its own (it uses the instance's database)."""


def build_queue(db: Database) -> JobQueue:
    return JobQueue(db)


def run_handler(queue: JobQueue, run: JobRun) -> Any:
    """Call the job's handler with `current_job()` set to it."""
    task = queue.tasks[run.claimed.task]
    token = _current.set(run)
    try:
        return task.handler(*run.claimed.args, **run.claimed.kwargs)
    finally:
        _current.reset(token)
