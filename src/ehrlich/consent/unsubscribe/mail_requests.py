"""Unsubscribe requests by mail: the mailbox behind List-Unsubscribe's mailto: (RFC 2369).

A mail client following `mailto:ADDR?subject=unsubscribe%20TOKEN` sends a mail
whose subject carries the token; some people put `unsubscribe TOKEN` in the
first line of the text instead. Each unread message naming a valid token
withdraws that consent through the same path as the one-click link, and is
then flagged seen and moved or deleted, so it is handled once. A message
without a valid token stays unread for a person to look at. Nothing is ever
answered, so a forged token learns nothing.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser

from ehrlich.audit.service import AuditLog
from ehrlich.consent.ledger.actions import one_click_unsubscribe
from ehrlich.consent.schemas import Evidence
from ehrlich.crypto import Keyring
from ehrlich.mail.imap import ImapConfig, ImapMailbox
from ehrlich.mail.interfaces import Mailbox
from ehrlich.storage.database import Database

# A token is base64url; links in older mails carry two parts joined by a dot.
REQUEST = re.compile(r"\bunsubscribe\s+([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class MailboxRun:
    withdrawn: int
    """Requests with a valid token: consent withdrawn (or already), message handled."""
    left_unread: int
    """Messages without a valid token, left unread for a person."""


def _first_text_line(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if not isinstance(part, EmailMessage):
        return ""
    text = part.get_content()
    return next((line for line in str(text).splitlines() if line.strip()), "")


def request_tokens(raw: bytes) -> list[str]:
    """The tokens a message names: in its subject, then in its text's first line."""
    tokens: list[str] = []
    try:
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        for place in (str(message.get("subject", "")), _first_text_line(message)):
            tokens += REQUEST.findall(place)
    except Exception:  # noqa: S110 - a malformed message is left for a person, never fatal
        pass
    return tokens


def handle_unsubscribe_requests(db: Database, audit: AuditLog, keyring: Keyring,
                                mailbox: Mailbox, *, now: datetime) -> MailboxRun:
    """Withdraw the consent each unread request names; each in a transaction of its own."""
    withdrawn = left = 0
    for message in mailbox.unread():
        valid = False
        for token in request_tokens(message.raw):
            with db.write() as session:
                valid = one_click_unsubscribe(session, audit, keyring, token,
                                              evidence=Evidence(), now=now,
                                              method="mail-request")
            if valid:
                break
        if valid:
            mailbox.mark_handled(message.uid)  # after the commit: a crash between re-runs it
            withdrawn += 1
        else:
            left += 1
    return MailboxRun(withdrawn=withdrawn, left_unread=left)


def read_unsubscribe_mailbox(db: Database, audit: AuditLog, keyring: Keyring,
                             config: ImapConfig, *, now: datetime) -> MailboxRun:
    """Open the unsubscribe mailbox over IMAP and handle its unread requests."""
    with ImapMailbox(config) as mailbox:
        return handle_unsubscribe_requests(db, audit, keyring, mailbox, now=now)
