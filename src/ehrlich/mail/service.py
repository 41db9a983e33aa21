"""Sending mail: built and checked at once, delivered by the job queue.

`QueuedMailSender.send` builds the MIME message in the caller (so a bad mail
fails there, loudly) and enqueues it; the `mail.send` task hands it to SMTP,
retrying with growing delays while the server is away. The Message-ID is fixed
at enqueue time, so a retried mail is the same mail. Nothing is delivered
while the maintenance switch is on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from email import policy
from typing import Any

from ehrlich.jobs import JobQueue
from ehrlich.mail.builder import MessageBuilder
from ehrlich.mail.dkim import DkimSigner
from ehrlich.mail.errors import MaintenanceActive
from ehrlich.mail.interfaces import MailSender, NullMailSender, OutgoingMail
from ehrlich.mail.maintenance import MaintenanceSwitch
from ehrlich.mail.smtp import SmtpConfig, SmtpTransport
from ehrlich.settings import Settings
from ehrlich.storage.base import utcnow

SEND_TASK = "mail.send"
log = logging.getLogger("ehrlich.mail")


class QueuedMailSender:
    """The real `MailSender`: one queue job per mail."""

    def __init__(self, jobs: JobQueue, builder: MessageBuilder, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._jobs = jobs
        self._builder = builder
        self._clock = clock

    def send(self, mail: OutgoingMail) -> None:
        message = self._builder.build(mail, now=self._clock())
        self._jobs.enqueue(SEND_TASK, {
            "mail_from": self._builder.envelope_from,
            "to": message["To"].addresses[0].addr_spec,
            "message": message.as_bytes(policy=policy.SMTP),
            "message_id": str(message["Message-ID"]),
            "category": mail.category,
            "unsubscribe_url": mail.unsubscribe.url if mail.unsubscribe else None,
        })


class MailDelivery:
    """What the `mail.send` task does with one queued mail."""

    def __init__(self, transport: SmtpTransport, *, maintenance: MaintenanceSwitch,
                 signer: DkimSigner | None = None) -> None:
        self.transport = transport
        self.maintenance = maintenance
        self.signer = signer

    def deliver(self, job: dict[str, Any]) -> None:
        """Raises `MaintenanceActive`, `MailDeferred` (retry) or `MailRefused` (give up)."""
        if self.maintenance.is_on():
            raise MaintenanceActive("maintenance is on; mail waits until it is off")
        message: bytes = job["message"]
        if self.signer is not None:
            message = self.signer.sign(message)
        self.transport.deliver(mail_from=job["mail_from"], to=job["to"], message=message)
        log.info("delivered mail %s (%s)", job["message_id"], job["category"])


def build_delivery(settings: Settings) -> MailDelivery | None:
    config = SmtpConfig.from_settings(settings)
    if config is None:
        return None
    return MailDelivery(SmtpTransport(config),
                        maintenance=MaintenanceSwitch(settings.effective_maintenance_file),
                        signer=DkimSigner.from_settings(settings))


def build_sender(settings: Settings, jobs: JobQueue) -> MailSender:
    """The queue-backed sender when SMTP is configured, otherwise the Null one."""
    if SmtpConfig.from_settings(settings) is None:
        return NullMailSender()
    return QueuedMailSender(jobs, MessageBuilder(str(settings.smtp_from)))
