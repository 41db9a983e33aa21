"""What other domains need to send and read mail: messages and the two protocols.

Domains build an `OutgoingMail` and hand it to `Instance.mail`. The real
sender (SMTP through the job queue, with retries) and the in-memory one for
tests of other domains both implement `MailSender`. A `Mailbox` (IMAP, in
`mail.imap`) hands over unread mail and removes what was handled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from ehrlich.crypto import Keyring

MailCategory = Literal["transactional", "marketing", "security"]

# Asked just before a queued mail (the opened job) goes out; False drops it. Domains
# register these (consent: was the consent behind the mail withdrawn while it waited?).
SendCheck = Callable[[Session, Keyring, Mapping[str, Any], datetime], bool]


@dataclass(frozen=True)
class Unsubscribe:
    """Where a recipient leaves: an HTTPS one-click URL (RFC 8058) and an optional mailto."""

    url: str
    mailto: str | None = None


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None
    category: MailCategory = "transactional"
    language: str = "en"
    headers: dict[str, str] = field(default_factory=dict)
    """Extra headers (not List-Unsubscribe: that comes from `unsubscribe`)."""
    unsubscribe: Unsubscribe | None = None
    """Required for marketing mail and the double opt-in confirmation."""


@dataclass(frozen=True)
class Letter:
    """A mail before it has a recipient: the domain that writes it does not hold the
    address (`SubjectsService.send_mail` addresses it)."""

    subject: str
    text: str
    html: str | None = None
    category: MailCategory = "transactional"
    language: str = "en"
    headers: dict[str, str] = field(default_factory=dict)
    unsubscribe: Unsubscribe | None = None

    def addressed_to(self, to: str) -> OutgoingMail:
        return OutgoingMail(to=to, subject=self.subject, text=self.text, html=self.html,
                            category=self.category, language=self.language,
                            headers=self.headers, unsubscribe=self.unsubscribe)


class MailSender(Protocol):
    def send(self, mail: OutgoingMail, *, session: Session | None = None) -> None:
        """Accept a mail for delivery; may return before it is delivered. With `session`
        the mail is queued in that transaction: it goes if and only if it commits."""
        ...


class NullMailSender:
    """Drops every mail: the default when no SMTP server is configured."""

    def send(self, mail: OutgoingMail, *, session: Session | None = None) -> None:
        return None


class MemoryMailSender:
    """Keeps mails in a list; for tests of domains that send mail."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail, *, session: Session | None = None) -> None:
        self.sent.append(mail)


@dataclass(frozen=True)
class InboundMessage:
    uid: str
    raw: bytes
    """The message as received; a large one only up to its first 64 KiB."""


class Mailbox(Protocol):
    def unread(self) -> Iterator[InboundMessage]:
        """The unread messages, left unread."""
        ...

    def mark_handled(self, uid: str) -> None:
        """Flag the message seen and move or delete it, so it is never handled twice."""
        ...
