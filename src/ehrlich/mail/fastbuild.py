"""Bulk messages assembled straight into bytes: the message `MessageBuilder.build` makes,
without the `email` package's header parsing, which costs milliseconds per message.

The checks, the unsubscribe footer and the header folding are the builder's own
(`MessageBuilder.checked`, `MAIL_POLICY`); what is written here directly is only
what needs no folding: an ASCII address, the Date, the Message-ID and fixed
headers. A subject is folded by the policy unless it is short plain ASCII.
Bodies are `text/plain` and `text/html` in UTF-8, 7bit when they are short-lined
ASCII, quoted-printable otherwise, as multipart/alternative when there is HTML.
Anything outside that common case (a non-ASCII address, extra headers) goes
through `MessageBuilder.build`. tests/mail/test_fastbuild.py checks that both
parse to the same message.
"""

from __future__ import annotations

import binascii
import re
import secrets
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from ehrlich.errors import InvalidInput
from ehrlich.mail.builder import MAIL_POLICY, ONE_CLICK, MessageBuilder, message_bytes
from ehrlich.mail.interfaces import OutgoingMail

_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
_PLAIN_SUBJECT = re.compile(r"[\x20-\x7e]*")
_MAX_LINE = 78
_LANGUAGE = re.compile(r"[A-Za-z0-9-]{1,35}")


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _part(content: str, subtype: str) -> bytes:
    lines = content.replace("\r\n", "\n").replace("\r", "\n")
    if not lines.endswith("\n"):
        lines += "\n"
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\n'.encode()
    if lines.isascii() and max(map(len, lines.split("\n"))) <= _MAX_LINE:
        return head + b"Content-Transfer-Encoding: 7bit\r\n\r\n" + lines.replace(
            "\n", "\r\n").encode()
    encoded = binascii.b2a_qp(lines.encode(), istext=True)
    return (head + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            + encoded.replace(b"\n", b"\r\n"))


class FastBuilder:
    """`MessageBuilder.build(...).as_bytes(policy=MAIL_POLICY)`, for bulk sending."""

    def __init__(self, builder: MessageBuilder) -> None:
        self.builder = builder
        probe = EmailMessage()
        probe["From"] = builder.from_header
        self._from = probe.as_bytes(policy=MAIL_POLICY).split(b"\r\n\r\n", 1)[0] + b"\r\n"
        self._date: tuple[datetime, str] | None = None

    def _date_header(self, now: datetime) -> str:
        """RFC 5322 date of `now` (whole seconds): formatted once a second, not per
        message."""
        second = now.replace(microsecond=0)
        cached = self._date
        if (cached is None or cached[0] != second
                or cached[0].utcoffset() != second.utcoffset()):
            cached = self._date = (second, format_datetime(second))
        return cached[1]

    def _subject(self, subject: str) -> bytes:
        line = f"Subject: {subject}"
        if _PLAIN_SUBJECT.fullmatch(subject) and len(line) <= _MAX_LINE and "=?" not in subject:
            return line.encode() + b"\r\n"
        probe = EmailMessage()
        try:
            probe["Subject"] = subject
        except ValueError as exc:  # CR/LF injection: refused as `MessageBuilder.build` does
            raise InvalidInput.one("headers", f"a header value is not allowed ({exc})") from exc
        return probe.as_bytes(policy=MAIL_POLICY).split(b"\r\n\r\n", 1)[0] + b"\r\n"

    def build_bytes(self, mail: OutgoingMail, *, now: datetime, message_id: str) -> bytes:
        """The message as bytes; raises `InvalidInput` as `MessageBuilder.build` does."""
        if (mail.headers or not _PLAIN_ADDRESS.fullmatch(mail.to)
                or not _LANGUAGE.fullmatch(mail.language)
                or any(c in message_id for c in "\r\n")):
            return message_bytes(self.builder.build(mail, now=now, message_id=message_id))
        text, html = self.builder.checked(mail)
        head = [self._from, f"To: {mail.to}\r\n".encode(), self._subject(mail.subject),
                f"Date: {self._date_header(now)}\r\nMessage-ID: {message_id}\r\n".encode()]
        if mail.unsubscribe is not None:
            uris = [f"<{mail.unsubscribe.url}>"]
            if mail.unsubscribe.mailto:
                uris.append(f"<{mail.unsubscribe.mailto}>")
            head.append(MAIL_POLICY.fold_binary("List-Unsubscribe", ", ".join(uris)))
            head.append(f"List-Unsubscribe-Post: {ONE_CLICK}\r\n".encode())
        head.append(b"MIME-Version: 1.0\r\n")
        if html is None:
            body = _part(text, "plain")
            return (b"".join(head) + body.replace(b"\r\n\r\n", f"\r\nContent-Language: "
                                                  f"{mail.language}\r\n\r\n".encode(), 1))
        boundary = f"==============={secrets.token_hex(12)}=="
        head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
                    f"Content-Language: {mail.language}\r\n\r\n".encode())
        sep = f"--{boundary}\r\n".encode()
        return b"".join([*head, sep, _part(text, "plain"), b"\r\n", sep, _part(html, "html"),
                         f"\r\n--{boundary}--\r\n".encode()])
