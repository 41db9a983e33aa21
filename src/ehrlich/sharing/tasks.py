"""The sharing domain's jobs: signed webhook deliveries to recipients (`sharing.webhooks`)
and the notifications an erasure owes them (`sharing.notifications`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ehrlich.sharing import webhooks
from ehrlich.sharing.notifications import NOTIFY_TASK, RecipientNotices
from ehrlich.sharing.webhooks import Webhooks

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance


def register(instance: Instance) -> None:
    webhooks.register(instance.jobs, instance.service(Webhooks))

    @instance.jobs.task(NOTIFY_TASK, retries=5, retry_delay=30, retry_backoff=2)
    def notify_erasure(subject_id: str, erased_at: str) -> dict[str, str]:
        return instance.service(RecipientNotices).run_notify(subject_id, erased_at,
                                                             now=instance.jobs.clock())
