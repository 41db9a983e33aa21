"""The rights domain's jobs: the link mail behind `/my-data` (so the page does the same
work for known and unknown addresses), and the daily reminder to the owners of data
requests that fall due within a week, and the daily retention run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ehrlich.jobs import crontab
from ehrlich.rights.retention import RetentionService
from ehrlich.rights.service import SEND_LINK_TASK, RightsService
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

REMIND_TASK = "rights.remind_due"
RETENTION_TASK = "rights.retention"


def register(instance: Instance) -> None:
    @instance.jobs.task(SEND_LINK_TASK, retries=3, retry_delay=30)
    def send_link(email_index: str, language: str, asked_at: int) -> bool:
        # the link's life starts when the person asked, not when the queue got to it
        return instance.service(RightsService).send_link(
            instance.db, instance.mail, bytes.fromhex(email_index), language=language,
            now=datetime.fromtimestamp(asked_at, UTC))

    @instance.jobs.periodic(REMIND_TASK, crontab(hour="7", minute="23"))
    def remind_due() -> int:
        return instance.service(RightsService).remind(instance.db, instance.mail, now=utcnow())

    @instance.jobs.periodic(RETENTION_TASK, crontab(hour="3", minute="41"))
    def retention() -> int:
        return len(instance.service(RetentionService).run(instance.db, now=utcnow()).erased)
