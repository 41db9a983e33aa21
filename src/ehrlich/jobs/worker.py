"""The worker: threads that claim, run and acknowledge jobs; a heartbeat; the scheduler.

Each thread claims the oldest due job under a lease of `lease_seconds`, runs its
handler and then acknowledges it (unless the handler already did, in its own
transaction). A heartbeat renews the leases of the jobs this process runs every
third of the lease, so only a dead (or frozen) worker's jobs fall due again. The
scheduler enqueues each periodic task once per due minute, whichever worker comes
first (`store.take_slot`). `run()` serves `ehrlich worker` (SIGTERM or SIGINT
stop it after the jobs under way); `start()`/`stop()` serve the in-process worker
of `ehrlich serve`; `run_due()` runs what is due in the caller's thread (tests).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Collection
from datetime import datetime, timedelta
from types import FrameType

from ehrlich.errors import where_it_failed
from ehrlich.jobs import store
from ehrlich.jobs.queue import GiveUp, JobQueue, JobRun, RetryLater, run_handler

# Tries a job may lose to workers that died while running it, on top of its own:
# a job that kills every worker that runs it is given up, not run forever.
CRASH_ALLOWANCE = 10
SLOT_MEMORY = timedelta(days=1)
log = logging.getLogger("ehrlich.jobs")


class Worker:
    def __init__(self, queue: JobQueue, *, threads: int, lease_seconds: float,
                 poll_seconds: float = 1.0) -> None:
        self.queue = queue
        self.threads = threads
        self.lease = lease_seconds
        self.poll = poll_seconds
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._running: dict[str, JobRun] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        queue.on_enqueue(self._wake.set)

    # --- one job ---------------------------------------------------------------------

    def run_one(self, *, now: datetime | None = None, skip: Collection[str] = ()
                ) -> str | None:
        """Claim and run one due job (none of `skip`); its id, None when none is due."""
        queue = self.queue
        at = now or queue.clock()
        with queue.db.read() as session:
            if not store.any_due(session, now=at, skip=skip):
                return None
        with queue.db.write() as session:
            claimed = store.claim(session, now=at, lease=self.lease, worker=self.name,
                                  skip=skip)
        if claimed is None:
            return None
        run = JobRun(queue.db, claimed, lease=self.lease)
        with self._lock:
            self._running[claimed.claim] = run
        try:
            self._execute(run)
        finally:
            with self._lock:
                self._running.pop(claimed.claim, None)
        return claimed.id

    def _execute(self, run: JobRun) -> None:
        queue, claimed = self.queue, run.claimed
        task = queue.tasks.get(claimed.task)
        if task is None:
            self._settle(run, failure=f"no task {claimed.task!r} in this worker")
            return
        if claimed.attempts > task.retries + 1 + CRASH_ALLOWANCE:
            self._settle(run, failure="given up: its workers kept dying")
            return
        try:
            run_handler(queue, run)
            if not run.acknowledged:
                with queue.db.write() as session:
                    store.acknowledge(session, claimed)
        except store.LeaseLost:
            log.warning("job %s (%s) was taken by another worker; its effect rolled back",
                        claimed.id, claimed.task)
        except RetryLater as again:
            self._settle(run, delay=again.delay, count_try=again.count_try)
        except GiveUp as exc:
            self._settle(run, failure=f"{claimed.task}: {exc}")
        except Exception as exc:
            if claimed.attempts <= task.retries:
                log.warning("job %s (%s) failed (%s), try %d of %d", claimed.id, claimed.task,
                            type(exc).__name__, claimed.attempts, task.retries + 1)
                self._settle(run, delay=task.delay_after(claimed.attempts))
            else:
                log.error("job %s (%s) failed for good: %s", claimed.id, claimed.task,
                          where_it_failed(exc))
                self._settle(run, failure=f"{claimed.task}: {type(exc).__name__}")

    def _settle(self, run: JobRun, *, delay: float | None = None, count_try: bool = True,
                failure: str | None = None) -> None:
        """Retry later (counted from the real clock) or keep as failed; the handler
        returned, so an outside effect it had begun did not happen."""
        with self.queue.db.write() as session:
            if failure is not None:
                store.fail(session, run.claimed, failure)
            else:
                store.reschedule(session, run.claimed, now=self.queue.clock(),
                                 delay=delay or 0, count_try=count_try)

    # --- periodic tasks ----------------------------------------------------------------

    def schedule(self, minute: datetime) -> int:
        """Enqueue the periodic tasks due at `minute` that no other worker has; how many."""
        minute = minute.replace(second=0, microsecond=0)
        enqueued = 0
        with self.queue.db.write() as session:
            for periodic in self.queue.periodic_tasks.values():
                if periodic.schedule(minute) and store.take_slot(session, periodic.task,
                                                                 minute):
                    self.queue.enqueue_in(session, periodic.task)
                    enqueued += 1
            store.forget_slots(session, before=minute - SLOT_MEMORY)
        return enqueued

    # --- the loops ---------------------------------------------------------------------

    def run_due(self, *, now: datetime | None = None) -> int:
        """Run every job due at `now` once, one after the other in this thread, with
        those they enqueue; how many. A job retried meanwhile waits for the next call."""
        ran: list[str] = []
        while (job_id := self.run_one(now=now, skip=ran)) is not None:
            ran.append(job_id)
        return len(ran)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_one() is not None:
                    continue
            except Exception:  # the database went away: wait and try again
                log.exception("the job worker could not reach the queue")
            self._wake.wait(self.poll)
            self._wake.clear()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            with self._lock:
                claims = list(self._running)
            if not claims:
                continue
            try:
                with self.queue.db.write() as session:
                    store.renew(session, claims, now=self.queue.clock(), lease=self.lease)
            except Exception:
                log.exception("the job worker could not renew its leases")

    def _scheduler(self) -> None:
        last: datetime | None = None
        while not self._stop.wait(0 if last is None else 1.0):
            minute = self.queue.clock().replace(second=0, microsecond=0)
            if minute == last:
                continue
            try:
                self.schedule(minute)
                last = minute
            except Exception:
                log.exception("the job worker could not schedule periodic jobs")

    def start(self) -> None:
        loops = [self._heartbeat, self._scheduler] + [self._work] * self.threads
        self._threads = [threading.Thread(target=loop, name=f"ehrlich-jobs-{i}", daemon=True)
                         for i, loop in enumerate(loops)]
        for thread in self._threads:
            thread.start()

    def stop(self, *, graceful: bool = True) -> None:
        """Stop claiming; with `graceful`, wait for the jobs under way to finish."""
        self._stop.set()
        self._wake.set()
        if graceful:
            for thread in self._threads:
                thread.join()

    def run(self) -> None:
        """Run until SIGTERM or SIGINT, then finish the jobs under way."""
        stopping = threading.Event()

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stopping.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
        self.start()
        stopping.wait()
        log.info("the job worker stops after the jobs under way")
        self.stop(graceful=True)
