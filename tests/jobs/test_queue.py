"""The queue's promises, on SQLite and PostgreSQL, with a clock the test moves.

A crash is a `Crash` (a BaseException, as far from the worker's handling as a
SIGKILL): it leaves the job's row running under its lease, as a dead worker does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ehrlich.audit.models import AuditEntry
from ehrlich.audit.service import AuditEvent
from ehrlich.instance.service import Instance
from ehrlich.jobs import GiveUp, JobQueue, RetryLater, crontab, current_job
from ehrlich.jobs.models import JobEffect
from ehrlich.jobs.store import LeaseLost
from ehrlich.jobs.worker import Worker
from tests.conftest import NOW

LEASE = 30.0


class Crash(BaseException):
    """The worker process dies here."""


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(instance: Instance, clock: Clock) -> JobQueue:
    return JobQueue(instance.db, clock=clock)


def worker(queue: JobQueue) -> Worker:
    return Worker(queue, threads=1, lease_seconds=LEASE)


def effects(instance: Instance, action: str) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.action == action)).scalar_one())


def test_a_job_is_acknowledged_only_after_it_finished(queue: JobQueue, clock: Clock) -> None:
    calls: list[str] = []
    crash = [True]

    @queue.task("t.note")
    def note(text: str) -> None:
        calls.append(text)
        if crash.pop(0) if crash else False:
            raise Crash

    queue.enqueue("t.note", "hello")
    with pytest.raises(Crash):
        worker(queue).run_due()
    assert queue.counts()["running"] == 1  # still there, its worker gone
    assert worker(queue).run_due() == 0  # not while the dead worker's lease runs
    clock.advance(LEASE + 1)
    assert worker(queue).run_due() == 1  # then run again, and acknowledged
    assert calls == ["hello", "hello"]
    assert queue.pending_count() == 0


def test_a_heartbeat_keeps_a_long_job_its_own(queue: JobQueue, clock: Clock,
                                              instance: Instance) -> None:
    from ehrlich.jobs import store

    queue.task("t.long")(lambda: None)
    queue.enqueue("t.long")
    with instance.db.write() as session:
        claimed = store.claim(session, now=clock(), lease=LEASE)
    assert claimed is not None
    clock.advance(LEASE * 2 / 3)
    with instance.db.write() as session:  # what the heartbeat thread does
        store.renew(session, [claimed.claim], now=clock(), lease=LEASE)
    clock.advance(LEASE * 2 / 3)  # past the first lease, within the renewed one
    assert worker(queue).run_due() == 0


def test_effect_and_acknowledgement_commit_together(queue: JobQueue, clock: Clock,
                                                    instance: Instance) -> None:
    crash_at: list[str] = ["before commit", "after commit"]

    @queue.task("t.audit")
    def audited(target: str) -> None:
        with instance.db.write() as session:
            instance.audit.record(session, AuditEvent("test", "test.effect", target, {}),
                                  now=clock())
            current_job().acknowledge(session)
            if crash_at[0] == "before commit":
                crash_at.pop(0)
                raise Crash
        if crash_at and crash_at[0] == "after commit":
            crash_at.pop(0)
            raise Crash

    queue.enqueue("t.audit", "x")
    with pytest.raises(Crash):  # rolled back with its effect: runs again
        worker(queue).run_due()
    assert effects(instance, "test.effect") == 0
    clock.advance(LEASE + 1)
    with pytest.raises(Crash):  # committed with its effect: done, whatever follows
        worker(queue).run_due()
    clock.advance(LEASE + 1)
    assert worker(queue).run_due() == 0
    assert effects(instance, "test.effect") == 1
    assert queue.pending_count() == 0


def test_a_worker_whose_lease_was_taken_cannot_commit_its_effect(
        queue: JobQueue, clock: Clock, instance: Instance) -> None:
    from ehrlich.jobs import store

    @queue.task("t.audit")
    def audited() -> None:
        with instance.db.write() as session:
            instance.audit.record(session, AuditEvent("test", "test.effect", "x", {}),
                                  now=clock())
            current_job().acknowledge(session)

    queue.enqueue("t.audit")
    with instance.db.write() as session:  # a worker that froze after taking the job
        frozen = store.claim(session, now=clock(), lease=LEASE)
    assert frozen is not None
    clock.advance(LEASE + 1)
    assert worker(queue).run_due() == 1  # another one runs it

    def late_effect() -> None:  # the first worker wakes up and tries to finish
        with instance.db.write() as session:
            instance.audit.record(session, AuditEvent("test", "test.effect", "x", {}),
                                  now=clock())
            store.acknowledge(session, frozen)

    with pytest.raises(LeaseLost):
        late_effect()
    assert effects(instance, "test.effect") == 1


def test_failures_are_retried_with_backoff_then_kept(queue: JobQueue, clock: Clock) -> None:
    tries: list[datetime] = []

    @queue.task("t.flaky", retries=2, retry_delay=10, retry_backoff=2)
    def flaky() -> None:
        tries.append(clock())
        raise OSError("unreachable")

    queue.enqueue("t.flaky")
    assert worker(queue).run_due() == 1
    for wait in (10, 20):  # 10 s, then doubled
        clock.advance(wait - 1)
        assert worker(queue).run_due() == 0
        clock.advance(1)
        assert worker(queue).run_due() == 1
    assert [(t - NOW).total_seconds() for t in tries] == [0, 10, 30]
    assert queue.counts() == {"ready": 0, "later": 0, "running": 0, "failed": 1}


def test_retry_later_and_give_up(queue: JobQueue, clock: Clock) -> None:
    seen: list[int] = []

    @queue.task("t.waits", retries=0)
    def waits() -> None:
        seen.append(current_job().attempt)
        if len(seen) < 4:
            raise RetryLater(60, count_try=False)  # e.g. maintenance: tries kept
        raise GiveUp("refused for good")

    queue.enqueue("t.waits")
    for _ in range(4):
        assert worker(queue).run_due() == 1
        clock.advance(60)
    assert seen == [1, 1, 1, 1]
    assert queue.counts()["failed"] == 1


def test_a_failed_try_forgets_the_effect_it_began(queue: JobQueue, clock: Clock,
                                                  instance: Instance) -> None:
    @queue.task("t.smtp", retries=1)
    def smtp() -> None:
        current_job().begin_effect(now=clock())
        raise OSError("connection refused")  # the transaction failed: nothing happened

    queue.enqueue("t.smtp")
    assert worker(queue).run_due() == 1
    with instance.db.read() as session:
        assert session.execute(select(func.count()).select_from(JobEffect)).scalar_one() == 0


def test_periodic_jobs_run_once_per_schedule_across_workers(queue: JobQueue,
                                                            clock: Clock) -> None:
    runs: list[datetime] = []
    queue.periodic("t.every5", crontab(minute="*/5"))(lambda: runs.append(clock()))
    other = JobQueue(queue.db, clock=clock)  # a second worker process, same database
    other.periodic("t.every5", crontab(minute="*/5"))(lambda: runs.append(clock()))
    first, second = worker(queue), worker(other)
    minute = NOW.replace(minute=10, second=0, microsecond=0)
    assert first.schedule(minute) == 1
    assert second.schedule(minute) == 0
    assert first.schedule(minute + timedelta(seconds=30)) == 0  # the same minute again
    assert second.schedule(minute + timedelta(minutes=1)) == 0  # not due
    assert second.schedule(minute + timedelta(minutes=5)) == 1
    clock.now = minute + timedelta(minutes=5)
    assert first.run_due() + second.run_due() == 2
    assert len(runs) == 2


def test_a_job_that_kills_every_worker_is_given_up(queue: JobQueue, clock: Clock) -> None:
    from ehrlich.jobs.worker import CRASH_ALLOWANCE

    @queue.task("t.poison")
    def poison() -> None:
        raise Crash

    queue.enqueue("t.poison")
    for _ in range(1 + CRASH_ALLOWANCE):
        with pytest.raises(Crash):
            worker(queue).run_due()
        clock.advance(LEASE + 1)
    assert worker(queue).run_due() == 1
    assert queue.counts()["failed"] == 1


def test_enqueued_in_the_callers_transaction_or_not_at_all(queue: JobQueue,
                                                           instance: Instance) -> None:
    queue.task("t.noop")(lambda: None)

    def failed_change() -> None:
        with instance.db.write() as session:
            queue.enqueue_in(session, "t.noop")
            raise RuntimeError("the change that would have caused the job failed")

    with pytest.raises(RuntimeError):
        failed_change()
    assert queue.pending_count() == 0
    with instance.db.write() as session:
        queue.enqueue_in(session, "t.noop")
    assert queue.pending_count() == 1


def test_arguments_round_trip_with_bytes(queue: JobQueue) -> None:
    got: list[Any] = []
    queue.task("t.args")(lambda *a, **k: got.append((a, k)))
    queue.enqueue("t.args", b"\x00\xffsealed", {"nested": [1, "x", None]}, flag=True)
    worker(queue).run_due()
    assert got == [((b"\x00\xffsealed", {"nested": [1, "x", None]}), {"flag": True})]


def test_beginning_an_outside_effect_renews_the_lease(queue: JobQueue, clock: Clock,
                                                     instance: Instance) -> None:
    from ehrlich.jobs import store

    taken: list[bool] = []

    @queue.task("t.smtp")
    def smtp() -> None:
        clock.advance(LEASE * 0.9)  # a slow start, the heartbeat late
        current_job().begin_effect(now=clock())
        clock.advance(LEASE * 0.5)  # past the first lease, inside the renewed one
        with instance.db.read() as session:
            taken.append(store.any_due(session, now=clock()))

    queue.enqueue("t.smtp")
    assert worker(queue).run_due() == 1
    assert taken == [False]  # no other worker could have taken it mid-effect


def test_a_failed_job_is_logged_by_type_and_code_never_by_its_message(
        queue: JobQueue, caplog: pytest.LogCaptureFixture) -> None:
    import smtplib

    address = "@".join(("ada", "example.org"))  # not in any source line the log may quote

    @queue.task("t.refused", retries=0)
    def refused() -> None:  # smtplib puts the refused addresses into the exception
        raise smtplib.SMTPRecipientsRefused({address: (550, b"no such user")})

    queue.enqueue("t.refused")
    with caplog.at_level("DEBUG"):
        assert worker(queue).run_due() == 1
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "SMTPRecipientsRefused" in logged
    assert "in refused" in logged  # the code line it failed in
    assert address not in logged
    assert queue.counts()["failed"] == 1
