"""The `subjects.erase` job: erase one person in the background (many at once, from a
list or a retention rule), with the job acknowledged in the erasure's own transaction,
so a worker that dies leaves either both or neither, and the job runs again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ehrlich.jobs import current_job
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

ERASE_TASK = "subjects.erase"


def register(instance: Instance) -> None:
    @instance.jobs.task(ERASE_TASK, retries=3, retry_delay=60)
    def erase(subject_id: str, actor: str, reason: str = "request") -> None:
        instance.subjects.erase(instance.db, subject_id, actor=actor, now=utcnow(),
                                reason=reason, within=current_job().acknowledge)
