"""The scheduled backup: registered on the queue, verifies what it made, prunes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ehrlich.backup.tasks import TASK_NAME, parse_schedule
from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from tests.backup.conftest import add_subjects
from tests.conftest import NOW
from tests.jobs import run_jobs_when_enqueued


def test_registered_and_runs_through_the_queue(instance: Instance) -> None:
    assert TASK_NAME in instance.jobs.task_names
    add_subjects(instance, 2)
    run_jobs_when_enqueued(instance)  # run the job in this process, as a worker would
    instance.jobs.enqueue(TASK_NAME)
    [listed] = instance.backup.list_backups()
    assert listed.verified == "ok"


def test_each_run_verifies_and_retention_prunes(instance: Instance) -> None:
    add_subjects(instance, 1)
    instance.backup.settings = instance.settings.model_copy(update={"backup_keep": (3, 0, 0)})
    for day in range(6):
        report = instance.backup.scheduled_run(now=NOW + timedelta(days=day))
        assert report.ok
    listing = instance.backup.list_backups()
    assert [r.created_at for r in listing] == [NOW + timedelta(days=d) for d in (3, 4, 5)]
    assert {r.verified for r in listing} == {"ok"}


def test_schedule_parsing() -> None:
    assert parse_schedule("17 2 * * *") == {"minute": "17", "hour": "2", "day": "*",
                                            "month": "*", "day_of_week": "*"}
    with pytest.raises(InvalidInput, match="backup_schedule"):
        parse_schedule("daily")
