"""The import job: opens the sealed upload and runs the import in batches.

The job holds only the run's id; the file waits sealed (`imports.uploads`).
A job that stops half-way leaves its committed batches; queueing it again
resumes after the last one. Hourly, the uploads of drafts never started (after a
day) and of stopped runs never resumed (after a week) are shredded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ehrlich.imports.csvfile import read_table
from ehrlich.imports.service import ImportsService
from ehrlich.imports.uploads import open_upload
from ehrlich.jobs import crontab
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

RUN_TASK = "imports.run"
DISCARD_TASK = "imports.discard_stale_uploads"


def run_upload(instance: Instance, run_id: str) -> None:
    """Run (or resume) the import of an uploaded file."""
    imports = instance.service(ImportsService)
    wrapped = imports.wrapped_key(instance.db, run_id)
    if wrapped is None:  # finished: its file is already shredded
        return
    raw = open_upload(instance.keyring, instance.settings.data_dir, run_id, wrapped)
    imports.run(instance.db, run_id, read_table(raw), mail=instance.mail, now=utcnow())


def register(instance: Instance) -> None:
    @instance.jobs.task(RUN_TASK)
    def run_import(run_id: str) -> None:
        run_upload(instance, run_id)

    @instance.jobs.periodic(DISCARD_TASK, crontab(minute="41"))
    def discard_stale() -> int:
        return instance.service(ImportsService).discard_stale(instance.db, now=utcnow())
