"""The `mail.send` job: deliver one mail, retrying with exponential backoff.

An unreachable server or a 4xx answer raises, and huey retries after
`mail_retry_delay` seconds, doubling each time (`mail_retries` tries; the
defaults, 12 tries from 30 s, cover an outage of more than a day). A 5xx
refusal is final. Maintenance and a missing SMTP configuration reschedule the
mail without using up a try. A mail whose consent was withdrawn (or whose
double opt-in was cancelled) while it waited is dropped, not sent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from huey.exceptions import CancelExecution, RetryTask

from ehrlich.consent.actions import mail_still_wanted
from ehrlich.mail.errors import MailRefused, MaintenanceActive
from ehrlich.mail.service import SEND_TASK, build_delivery, open_job
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

MAINTENANCE_RECHECK_SECONDS = 60
UNCONFIGURED_RECHECK_SECONDS = 300
BACKOFF = 2
log = logging.getLogger("ehrlich.mail")


def _still_wanted(instance: Instance, job: dict[str, Any]) -> bool:
    """Withdrawals apply to mailings already under way: checked just before sending."""
    url = job.get("unsubscribe_url")
    if not url:
        return True
    with instance.db.read() as session:
        return mail_still_wanted(session, instance.keyring, url, category=job["category"],
                                 now=utcnow())


def register(instance: Instance) -> None:
    settings = instance.settings
    delivery = build_delivery(settings)

    @instance.jobs.task(SEND_TASK, retries=settings.mail_retries,
                        retry_delay=settings.mail_retry_delay, retry_backoff=BACKOFF)
    def send_mail(queued: dict[str, Any]) -> None:
        job = open_job(instance.keyring, queued)
        if delivery is None:
            log.warning("mail %s waits: this worker has no SMTP configuration",
                        job.get("message_id"))
            raise RetryTask(delay=UNCONFIGURED_RECHECK_SECONDS)
        if not _still_wanted(instance, job):
            log.info("mail %s dropped: its consent was withdrawn while it waited",
                     job.get("message_id"))
            return
        try:
            delivery.deliver(job)
        except MaintenanceActive:
            raise RetryTask(delay=MAINTENANCE_RECHECK_SECONDS) from None
        except MailRefused as exc:
            log.error("mail %s refused for good: %s", job.get("message_id"), exc.message)
            raise CancelExecution(retry=False) from exc
