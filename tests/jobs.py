"""Running what the job queue holds, in the test's own thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ehrlich.instance.service import Instance


def run_jobs(instance: Instance, *, later: timedelta = timedelta(0)) -> int:
    """Run what the queue holds, and scheduled jobs due within `later`; no sleeping."""
    huey = instance.jobs.huey
    huey.storage.blocking = False  # an empty PostgreSQL queue would wait for a NOTIFY
    at = datetime.now(UTC).replace(tzinfo=None) + later  # huey keeps naive UTC
    ran = 0
    due = list(huey.read_schedule(at))
    while True:
        task = due.pop() if due else huey.dequeue()
        if task is None:
            return ran
        huey.execute(task, timestamp=at)
        ran += 1
