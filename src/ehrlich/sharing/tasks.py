"""The processor syncs on the durable queue: a periodic job every five minutes queues the
scheduled syncs that are due and the removals of everyone who left a synced audience
(withdrawal, erasure), and `sharing.processor_sync` runs one sync (also the console's
"run now"), tried again later when it fails."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ehrlich.errors import Conflict
from ehrlich.jobs import RetryLater, crontab
from ehrlich.sharing.copies import Caller
from ehrlich.sharing.processors import ProcessorSyncService

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

log = logging.getLogger(__name__)
SYNC_TASK = "sharing.processor_sync"
DUE_TASK = "sharing.processor_syncs_due"
SYSTEM = Caller("system:processor-sync")
RETRIES = 5
RETRY_DELAY = 300.0


def register(instance: Instance) -> None:
    syncs = instance.service(ProcessorSyncService)

    @instance.jobs.task(SYNC_TASK, retries=RETRIES, retry_delay=RETRY_DELAY)
    def processor_sync(recipient: str, purpose: str, actor: str, removals_only: bool = False
                       ) -> str:
        try:
            # the one who queued it was checked then (the console's "run now")
            run = syncs.run(recipient, purpose, Caller(actor), now=instance.jobs.clock(),
                            removals_only=removals_only)
        except Conflict:
            raise RetryLater(60, count_try=False) from None
        return f"{run.kind}: {run.added} added, {run.removed} removed"

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
