"""The sharing domain's jobs: signed webhook deliveries to recipients (`sharing.webhooks`)
and the notifications an erasure owes them (`sharing.notifications`), and the processor
syncs.

A periodic job every five minutes queues the scheduled syncs that are due and the
removals of everyone who left a synced audience (withdrawal, erasure);
`sharing.processor_sync` runs one sync (also the console's "run now"), tried again
later when it fails."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ehrlich.errors import Conflict, InvalidInput, NotFound
from ehrlich.jobs import GiveUp, RetryLater, crontab
from ehrlich.sharing import webhooks
from ehrlich.sharing.copies import Caller
from ehrlich.sharing.notifications import NOTIFY_TASK, RECTIFY_TASK, RecipientNotices
from ehrlich.sharing.processors import ProcessorSyncService
from ehrlich.sharing.webhooks import Webhooks

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

SYNC_TASK = "sharing.processor_sync"
DUE_TASK = "sharing.processor_syncs_due"
SYSTEM = Caller("system:processor-sync")
RETRIES = 5
RETRY_DELAY = 300.0


def register(instance: Instance) -> None:
    webhooks.register(instance.jobs, instance.service(Webhooks))

    @instance.jobs.task(NOTIFY_TASK, retries=5, retry_delay=30, retry_backoff=2)
    def notify_erasure(subject_id: str, erased_at: str) -> dict[str, str]:
        return instance.service(RecipientNotices).run_notify(subject_id, erased_at,
                                                             now=instance.jobs.clock())

    @instance.jobs.task(RECTIFY_TASK, retries=5, retry_delay=30, retry_backoff=2)
    def notify_rectification(subject_id: str, rectified_at: str, fields: list[str]
                             ) -> dict[str, str]:
        return instance.service(RecipientNotices).run_notify_rectification(
            subject_id, rectified_at, fields, now=instance.jobs.clock())

    syncs = instance.service(ProcessorSyncService)

    @instance.jobs.task(SYNC_TASK, retries=RETRIES, retry_delay=RETRY_DELAY)
    def processor_sync(recipient: str, purpose: str, actor: str, removals_only: bool = False
                       ) -> str:
        try:
            # whoever queued it was checked then (the console's "run now")
            run = syncs.run(recipient, purpose, Caller(actor), now=instance.jobs.clock(),
                            removals_only=removals_only)
        except Conflict:
            raise RetryLater(60, count_try=False) from None
        except (InvalidInput, NotFound) as exc:  # no basis any more, no sync: never will
            raise GiveUp(exc.message) from None
        return f"{run.kind}: {run.added} added, {run.removed} removed, {run.changed} corrected"

    @instance.jobs.periodic(DUE_TASK, crontab(minute="*/5"))
    def processor_syncs_due() -> int:
        due = set(syncs.due(now=instance.jobs.clock()))
        for recipient, purpose in sorted(due):
            instance.jobs.enqueue(SYNC_TASK, recipient, purpose, SYSTEM.actor)
        for recipient, purpose in syncs.synced():
            if (recipient, purpose) not in due:
                instance.jobs.enqueue(SYNC_TASK, recipient, purpose, SYSTEM.actor,
                                      removals_only=True)
        return len(due)
