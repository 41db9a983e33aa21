"""The scheduled backup: create, verify the new archive, then prune."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ehrlich.errors import InvalidInput
from ehrlich.jobs import crontab
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

log = logging.getLogger(__name__)
TASK_NAME = "backup.scheduled"
RUN_NOW = "backup.run_now"
VERIFY_NOW = "backup.verify_now"


def parse_schedule(value: str) -> dict[str, str]:
    """A five-field cron line (minute hour day month weekday) as crontab() arguments."""
    fields = value.split()
    if len(fields) != 5:
        raise InvalidInput.one("backup_schedule", "give five cron fields: "
                                                  "minute hour day month weekday")
    names = ("minute", "hour", "day", "month", "day_of_week")
    return dict(zip(names, fields, strict=True))


def register(instance: Instance) -> None:
    """The console's "run now" and "verify now", and `scheduled_run` on `backup_schedule`
    (an empty schedule turns only the schedule off)."""

    @instance.jobs.task(RUN_NOW)
    def backup_now(actor: str) -> None:
        sidecar = instance.backup.create(now=utcnow(), actor=actor)
        report = instance.backup.verify(sidecar.manifest.backup_id, now=utcnow(), actor=actor)
        log.info("backup %s verified: %s", report.backup_id, report.detail)

    @instance.jobs.task(VERIFY_NOW)
    def verify_now(backup_id: str, actor: str) -> None:
        report = instance.backup.verify(backup_id, now=utcnow(), actor=actor)
        log.info("backup %s verified: %s", report.backup_id, report.detail)

    if not instance.settings.backup_schedule.strip():
        return
    schedule = crontab(**parse_schedule(instance.settings.backup_schedule))

    @instance.jobs.periodic(TASK_NAME, schedule)
    def scheduled_backup() -> None:
        report = instance.backup.scheduled_run(now=utcnow())
        log.info("backup %s verified: %s", report.backup_id, report.detail)
