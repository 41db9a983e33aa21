"""`ehrlich doctor` says when queued jobs wait with no worker to take them."""

from __future__ import annotations

from datetime import timedelta

from ehrlich.instance.service import Instance
from ehrlich.posture.checks import JOBS_STALLED_AFTER, job_worker
from ehrlich.posture.schemas import PostureContext, Status
from tests.jobs import run_jobs


def test_jobs_that_nobody_takes_are_reported(instance: Instance) -> None:
    instance.jobs.enqueue("auth.purge_expired_sessions")
    now = instance.jobs.clock()
    soon = job_worker.run(PostureContext(instance, now + timedelta(minutes=1)))
    assert soon.status == Status.PASS  # a worker polls every second: not yet a problem
    stalled = job_worker.run(PostureContext(instance, now + JOBS_STALLED_AFTER * 2))
    assert stalled.status == Status.WARN
    assert "ehrlich worker" in stalled.fix
    assert run_jobs(instance) == 1
    later = job_worker.run(PostureContext(instance, now + JOBS_STALLED_AFTER * 2))
    assert later.status == Status.PASS
