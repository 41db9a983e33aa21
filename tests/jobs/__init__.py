"""Running what the job queue holds, in the test's own thread."""

from __future__ import annotations

from datetime import timedelta

from ehrlich.instance.service import Instance
from ehrlich.jobs.worker import Worker
from ehrlich.storage.base import utcnow


def run_jobs(instance: Instance, *, later: timedelta = timedelta(0)) -> int:
    """Run what the queue holds, and jobs scheduled within `later`; no sleeping. Without
    `later`, each claim reads the queue's clock, so a job that a job queues (a mail) runs too."""
    worker = Worker(instance.jobs, threads=1, lease_seconds=60)
    return worker.run_due(now=utcnow() + later if later else None)


def run_jobs_when_enqueued(instance: Instance) -> None:
    """From now on every enqueued job runs at once, in the enqueuing thread, as a worker
    would run it (the queue's committed rows, claimed and acknowledged)."""
    instance.jobs.on_enqueue(lambda: run_jobs(instance) and None)
