"""A test mail from the console: to the staff member's own address, handed to the SMTP
server at once (not queued), so the page can say what the server answered.

One test mail per staff member a minute (a claim in the shared counter store), and
each one sent is audited with its outcome; the address itself is not written down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.counters.interfaces import CounterStore
from ehrlich.errors import EhrlichError
from ehrlich.mail.builder import message_builder
from ehrlich.mail.errors import MailRefused, MaintenanceActive
from ehrlich.mail.interfaces import OutgoingMail
from ehrlich.mail.service import build_delivery, mail_job
from ehrlich.mail.status import mail_status
from ehrlich.settings import Settings
from ehrlich.storage.database import Database

TEST_MAIL_INTERVAL = timedelta(minutes=1)
Outcome = Literal["sent", "off", "throttled", "deferred", "refused", "maintenance"]
SUBJECT = "ehrlich: test mail"
TEXT = ("This is a test mail from the ehrlich console. It reached you, so mail from this "
        "instance (double opt-in confirmations included) can reach people.\n")


@dataclass(frozen=True)
class TestMailResult:
    outcome: Outcome
    detail: str


def send_test_mail(settings: Settings, db: Database, audit: AuditLog, counters: CounterStore,
                   *, to: str, user_id: str, now: datetime) -> TestMailResult:
    """Deliver one test mail to `to` now; every answer is a result, none raises."""
    status = mail_status(settings)
    delivery = build_delivery(settings)
    if not status.on or delivery is None:
        return TestMailResult("off", f"mail is off: {status.detail}; to turn it on, {status.fix}")
    if not counters.claim(f"mail-test:{user_id}", until=now + TEST_MAIL_INTERVAL, now=now):
        return TestMailResult("throttled", "a test mail was sent less than a minute ago; "
                              "wait a minute and try again")
    builder = message_builder(settings)
    job = mail_job(builder, OutgoingMail(to=to, subject=SUBJECT, text=TEXT), now=now)
    outcome: Outcome = "sent"
    detail = f"the SMTP server {status.detail.removeprefix('mail goes to ')} accepted it"
    try:
        delivery.deliver(job)
    except EhrlichError as exc:
        # MailDeferred, MailRefused, MaintenanceActive, or a DKIM ConfigurationError
        outcome = ("maintenance" if isinstance(exc, MaintenanceActive) else
                   "refused" if isinstance(exc, MailRefused) else "deferred")
        detail = exc.message
    with db.write() as session:
        audit.record(session, AuditEvent(actor=f"staff:{user_id}", action="mail.test",
                                         target=job["message_id"],
                                         detail={"outcome": outcome}), now=now)
    return TestMailResult(outcome, detail)
