"""The `mail.send` job: deliver one mail once, retrying with exponential backoff.

An unreachable server or a 4xx answer raises, and the queue retries after
`mail_retry_delay` seconds, doubling each time (`mail_retries` tries; the
defaults, 12 tries from 30 s, cover an outage of more than a day). A 5xx
refusal is final. Maintenance and a missing SMTP configuration reschedule the
mail without using up a try. A mail that a registered send-time check refuses
(consent withdrawn, or double opt-in cancelled, while it waited) is dropped, not sent.

Once: the job marks the SMTP transaction begun (committed) just before it, and
acknowledges the job (committed) as soon as the server has answered the end of
DATA, before QUIT. A worker killed between those two commits leaves the mark;
the next try sends the mail again, with the same Message-ID, and says so in the
log. That moment, one server round trip long, is the only way to a second copy.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from ehrlich.crypto import Keyring
from ehrlich.jobs import GiveUp, JobQueue, RetryLater, current_job
from ehrlich.mail.errors import MailRefused, MaintenanceActive
from ehrlich.mail.interfaces import SendCheck
from ehrlich.mail.service import SEND_TASK, build_delivery, open_job
from ehrlich.settings import Settings
from ehrlich.storage.base import utcnow
from ehrlich.storage.database import Database

MAINTENANCE_RECHECK_SECONDS = 60
UNCONFIGURED_RECHECK_SECONDS = 300
BACKOFF = 2
log = logging.getLogger("ehrlich.mail")


def _still_wanted(db: Database, keyring: Keyring, checks: Sequence[SendCheck],
                  job: dict[str, Any]) -> bool:
    """Withdrawals apply to mailings already under way: checked just before sending."""
    if not checks:
        return True
    now = utcnow()
    with db.read() as session:
        return all(check(session, keyring, job, now) for check in checks)


def register(jobs: JobQueue, settings: Settings, keyring: Keyring, db: Database,
             send_checks: Sequence[SendCheck]) -> None:
    delivery = build_delivery(settings)

    @jobs.task(SEND_TASK, retries=settings.mail_retries,
               retry_delay=settings.mail_retry_delay, retry_backoff=BACKOFF)
    def send_mail(queued: dict[str, Any]) -> None:
        run = current_job()
        job = open_job(keyring, queued)
        if delivery is None:
            log.warning("mail %s waits: this worker has no SMTP configuration",
                        job.get("message_id"))
            raise RetryLater(UNCONFIGURED_RECHECK_SECONDS, count_try=False)
        if not _still_wanted(db, keyring, send_checks, job):
            log.info("mail %s dropped: its consent was withdrawn while it waited",
                     job.get("message_id"))
            return

        with contextlib.ExitStack() as acknowledgement:
            ready: list[Session] = []

            def begin() -> None:
                if run.begin_effect(now=utcnow()):
                    log.warning("mail %s: an earlier try stopped while the server took it; "
                                "sent again, so it may arrive twice", job.get("message_id"))
                if not db.is_sqlite:
                    # Connected and begun now, so that after the server's answer only the
                    # acknowledgement's statements and COMMIT remain (PostgreSQL: no lock
                    # is held meanwhile; SQLite would hold its writer lock, so it waits).
                    session = acknowledgement.enter_context(db.write())
                    session.connection()
                    ready.append(session)

            def accepted() -> None:
                if ready:
                    run.acknowledge(ready[0])
                    acknowledgement.close()  # commits
                    return
                with db.write() as session:
                    run.acknowledge(session)

            try:
                delivery.deliver(job, begin=begin, accepted=accepted)
            except MaintenanceActive:
                raise RetryLater(MAINTENANCE_RECHECK_SECONDS, count_try=False) from None
            except MailRefused as exc:
                log.error("mail %s refused for good: %s", job.get("message_id"),
                          exc.message)
                raise GiveUp(exc.message) from exc
