"""Sending mail: built and checked at once, delivered by the job queue.

`QueuedMailSender.send` builds the MIME message in the caller (so a bad mail
fails there, loudly) and enqueues it; the `mail.send` task hands it to SMTP,
retrying with growing delays while the server is away, and records the
delivery the moment the server has taken the mail (see docs/jobs.md). The Message-ID is fixed
at enqueue time, so a retried mail is the same mail. Nothing is delivered
while the maintenance switch is on.

The queue keeps the Message-ID and category in the clear (for logs) and the
rest (recipient, message, unsubscribe link) sealed under a key derived from the
key file: a copy of the queue's storage holds no addresses.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ehrlich.crypto import Keyring
from ehrlich.jobs import JobQueue
from ehrlich.mail.builder import MessageBuilder, message_builder, message_bytes
from ehrlich.mail.dkim import DkimSigner
from ehrlich.mail.errors import MaintenanceActive
from ehrlich.mail.interfaces import MailSender, NullMailSender, OutgoingMail
from ehrlich.mail.maintenance import MaintenanceSwitch
from ehrlich.mail.smtp import SmtpConfig, SmtpTransport
from ehrlich.settings import Settings
from ehrlich.storage.base import utcnow

SEND_TASK = "mail.send"
log = logging.getLogger("ehrlich.mail")


def seal_job(keyring: Keyring, job: dict[str, Any]) -> dict[str, Any]:
    """The queued form of a mail job: Message-ID and category clear, the rest sealed."""
    private = {k: v for k, v in job.items() if k not in ("message_id", "category")}
    private["message"] = base64.b64encode(private["message"]).decode()
    sealed = keyring.seal_payload(SEND_TASK, job["message_id"], json.dumps(private).encode())
    return {"message_id": job["message_id"], "category": job["category"], "sealed": sealed}


def open_job(keyring: Keyring, queued: dict[str, Any]) -> dict[str, Any]:
    """The mail job again; a job queued in the clear by an older version passes as it is."""
    if "sealed" not in queued:
        return queued
    private = json.loads(keyring.open_payload(SEND_TASK, queued["message_id"],
                                              queued["sealed"]))
    private["message"] = base64.b64decode(private["message"])
    return {"message_id": queued["message_id"], "category": queued["category"], **private}


def mail_job(builder: MessageBuilder, mail: OutgoingMail, *, now: datetime) -> dict[str, Any]:
    """What `MailDelivery.deliver` takes: the built message and its envelope."""
    message = builder.build(mail, now=now)
    return {
        "mail_from": builder.envelope_from,
        "to": message["To"].addresses[0].addr_spec,
        "message": message_bytes(message),
        "message_id": str(message["Message-ID"]),
        "category": mail.category,
        "unsubscribe_url": mail.unsubscribe.url if mail.unsubscribe else None,
    }


class QueuedMailSender:
    """The real `MailSender`: one queue job per mail."""

    def __init__(self, jobs: JobQueue, builder: MessageBuilder, keyring: Keyring, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._jobs = jobs
        self._builder = builder
        self._keyring = keyring
        self._clock = clock

    def send(self, mail: OutgoingMail, *, session: Session | None = None) -> None:
        job = seal_job(self._keyring, mail_job(self._builder, mail, now=self._clock()))
        if session is None:
            self._jobs.enqueue(SEND_TASK, job)
        else:
            self._jobs.enqueue_in(session, SEND_TASK, job)


class MailDelivery:
    """What the `mail.send` task does with one queued mail."""

    def __init__(self, transport: SmtpTransport, *, maintenance: MaintenanceSwitch,
                 signer: DkimSigner | None = None) -> None:
        self.transport = transport
        self.maintenance = maintenance
        self.signer = signer

    def deliver(self, job: dict[str, Any], *, begin: Callable[[], None] | None = None,
                accepted: Callable[[], None] | None = None) -> None:
        """Raises `MaintenanceActive`, `MailDeferred` (retry) or `MailRefused` (give up).

        `begin` runs just before the SMTP transaction, `accepted` as soon as the
        server has taken the message (see `SmtpTransport.deliver`).
        """
        if self.maintenance.is_on():
            raise MaintenanceActive("maintenance is on; mail waits until it is off")
        message: bytes = job["message"]
        if self.signer is not None:
            message = self.signer.sign(message)
        if begin is not None:
            begin()
        self.transport.deliver(mail_from=job["mail_from"], to=job["to"], message=message,
                               accepted=accepted)
        log.info("delivered mail %s (%s)", job["message_id"], job["category"])


def build_delivery(settings: Settings) -> MailDelivery | None:
    config = SmtpConfig.from_settings(settings)
    if config is None:
        return None
    return MailDelivery(SmtpTransport(config),
                        maintenance=MaintenanceSwitch(settings.effective_maintenance_file),
                        signer=DkimSigner.from_settings(settings))


def build_sender(settings: Settings, jobs: JobQueue, keyring: Keyring) -> MailSender:
    """The queue-backed sender when SMTP is configured, otherwise the Null one."""
    if SmtpConfig.from_settings(settings) is None:
        return NullMailSender()
    return QueuedMailSender(jobs, message_builder(settings), keyring)
