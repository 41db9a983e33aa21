"""Turn an `OutgoingMail` into a MIME message ready for SMTP.

Plain text and, when given, HTML as multipart/alternative. Mail with an
unsubscribe link (every marketing mail, and the double opt-in confirmation)
gets `List-Unsubscribe` (HTTPS first, then mailto) and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` exactly once each
(RFC 2369, RFC 8058), and a visible link in the body when the template did
not already show one.

`MAIL_POLICY` writes the message for SMTP. It leaves `List-Unsubscribe` as
plain angle-bracketed URIs, folded only between entries: the standard folder
would turn a URI longer than a line into an RFC 2047 encoded-word, which
mailbox providers do not decode, so the one-click link would be lost.
"""

from __future__ import annotations

import html
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

import idna

from ehrlich.errors import InvalidInput
from ehrlich.i18n import translations
from ehrlich.mail.interfaces import OutgoingMail, Unsubscribe
from ehrlich.settings import Settings

ONE_CLICK = "List-Unsubscribe=One-Click"
RESERVED_HEADERS = frozenset(h.lower() for h in (
    "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version",
    "Content-Type", "Content-Transfer-Encoding", "Content-Language", "DKIM-Signature",
    "List-Unsubscribe", "List-Unsubscribe-Post", "Return-Path", "Sender"))
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_URI_CHARS = 900  # one entry per line stays under RFC 5322's 998 characters


class _SmtpPolicy(EmailPolicy):
    """`policy.SMTP`, but `List-Unsubscribe` is folded by hand (see the module docstring)."""

    def _list_header(self, name: str, value: str) -> str | None:
        if name.lower() != "list-unsubscribe":
            return None
        entries = [entry.strip() for entry in str(value).split(",")]
        line = f"{name}: {', '.join(entries)}"
        if self.max_line_length and len(line) > self.max_line_length:
            line = f"{name}: " + f",{self.linesep} ".join(entries)
        return line + self.linesep

    def fold(self, name: str, value: str) -> str:
        return self._list_header(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        folded = self._list_header(name, value)
        return folded.encode("ascii") if folded else super().fold_binary(name, value)


MAIL_POLICY = _SmtpPolicy(linesep="\r\n")
MAIL_POLICY_UTF8 = MAIL_POLICY.clone(utf8=True)
"""For a message to or from an address with non-ASCII characters (RFC 6532): its
headers in UTF-8 as they are, sent with SMTPUTF8 (`mail.smtp.smtputf8_options`). The
ASCII policy would write such an address as an encoded-word, which is not an address."""


def ascii_domain(address: str) -> str:
    """A plain address with its domain in ASCII (IDNA 2008 with UTS 46, as email-validator
    reads it: `bücher.example` → `xn--bcher-kva.example`): the same mailbox, and one that
    needs no SMTPUTF8 when its local part is ASCII. Left as it is when it cannot be
    converted; the server decides then."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii() or "<" in address:
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return address


def message_bytes(message: EmailMessage) -> bytes:
    """The message as SMTP sends it: `MAIL_POLICY`, or `MAIL_POLICY_UTF8` when an address
    in From or To is not ASCII."""
    international = any(not address.addr_spec.isascii()
                        for name in ("From", "To") if (header := message[name]) is not None
                        for address in header.addresses)
    return message.as_bytes(policy=MAIL_POLICY_UTF8 if international else MAIL_POLICY)


def _check_unsubscribe(unsubscribe: Unsubscribe) -> None:
    parts = urlsplit(unsubscribe.url)
    # RFC 8058 requires HTTPS; plain HTTP is accepted only on loopback for development.
    if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
        raise InvalidInput.one("unsubscribe.url", "must be an https:// URL (RFC 8058)")
    for field, uri in (("url", unsubscribe.url), ("mailto", unsubscribe.mailto or "")):
        if len(uri) > MAX_URI_CHARS:
            raise InvalidInput.one(f"unsubscribe.{field}",
                                   f"is longer than {MAX_URI_CHARS} characters")
        if not uri.isascii():  # a header carries URIs as they are, never encoded
            raise InvalidInput.one(f"unsubscribe.{field}", "must be ASCII (percent-encode "
                                   "other characters; punycode for a domain)")
    if not parts.netloc or any(c in unsubscribe.url for c in "<>, \r\n"):
        raise InvalidInput.one("unsubscribe.url", "is not a usable URL")
    if unsubscribe.mailto is not None and (
            not unsubscribe.mailto.startswith("mailto:")
            or any(c in unsubscribe.mailto for c in "<>, \r\n")):
        raise InvalidInput.one("unsubscribe.mailto", "must be a mailto: URI without spaces")


def _bare_address(value: str) -> str:
    """A return path is an address alone (it becomes MAIL FROM): no name, no brackets."""
    text = value.strip()
    local, at, domain = text.partition("@")
    if (not at or not local or "." not in domain or not (text.isascii() and text.isprintable())
            or any(c in text for c in ' <>,;"()[]\\') or len(text) > 254):
        raise InvalidInput.one("smtp_return_path", "must be a bare address such as "
                               "bounces@example.org")
    return text


def message_builder(settings: Settings) -> MessageBuilder:
    """The builder of this instance's mail: From `smtp_from`, envelope `smtp_return_path`."""
    return MessageBuilder(str(settings.smtp_from), return_path=settings.smtp_return_path)


def _with_footer(mail: OutgoingMail, url: str) -> tuple[str, str | None]:
    label = translations(mail.language).gettext("Unsubscribe")
    text = mail.text if url in mail.text else f"{mail.text.rstrip()}\n\n-- \n{label}: {url}\n"
    body = mail.html
    if body is not None and html.escape(url, quote=True) not in body and url not in body:
        link = (f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>')
        body = body.replace("</body>", link + "</body>") if "</body>" in body else body + link
    return text, body


class MessageBuilder:
    def __init__(self, sender: str, *, return_path: str | None = None) -> None:
        """`sender` is the From header; `return_path` the envelope sender that delivery
        status notifications go back to (the sender's address when unset)."""
        name, address = parseaddr(sender)
        if "@" not in address:
            raise InvalidInput.one("smtp_from", "must be an address such as "
                                   "'Example <news@example.org>'")
        self.sender = sender
        self.envelope_from = address if return_path is None else _bare_address(return_path)
        self.domain = address.rsplit("@", 1)[1]
        self._from_header = Address(display_name=name, addr_spec=address)

    def checked(self, mail: OutgoingMail) -> tuple[str, str | None]:
        """The checks every mail passes; its text and HTML with the unsubscribe footer."""
        if "\r" in mail.subject or "\n" in mail.subject:
            # A lone CR passes the email package's own check and ends the header block.
            raise InvalidInput.one("headers", "the subject must be one line (no CR or LF)")
        if mail.category == "marketing" and mail.unsubscribe is None:
            raise InvalidInput.one("unsubscribe", "marketing mail needs an unsubscribe link")
        for name in mail.headers:
            if name.lower() in RESERVED_HEADERS:
                raise InvalidInput.one(f"headers.{name}", "is set by the mail builder")
        if mail.unsubscribe is None:
            return mail.text, mail.html
        _check_unsubscribe(mail.unsubscribe)
        return _with_footer(mail, mail.unsubscribe.url)

    @property
    def from_header(self) -> Address:
        return self._from_header

    def build(self, mail: OutgoingMail, *, now: datetime,
              message_id: str | None = None) -> EmailMessage:
        """Validate and assemble; raises `InvalidInput` naming the bad field."""
        text, body = self.checked(mail)
        msg = EmailMessage()
        try:
            msg["From"] = self._from_header
            msg["To"] = ascii_domain(mail.to)
            msg["Subject"] = mail.subject
            msg["Date"] = format_datetime(now)
            msg["Message-ID"] = message_id or make_msgid(domain=self.domain)
            if mail.unsubscribe is not None:
                uris = [f"<{mail.unsubscribe.url}>"]
                if mail.unsubscribe.mailto:
                    uris.append(f"<{mail.unsubscribe.mailto}>")
                msg["List-Unsubscribe"] = ", ".join(uris)
                msg["List-Unsubscribe-Post"] = ONE_CLICK
            for name, value in mail.headers.items():
                msg[name] = value
        except (ValueError, IndexError) as exc:  # CR/LF injection, unparsable address
            raise InvalidInput.one("headers", f"a header value is not allowed ({exc})") from exc
        if len(msg.get_all("To", [])) != 1 or len(msg["To"].addresses) != 1:
            raise InvalidInput.one("to", "must be exactly one address")
        msg.set_content(text)
        if body is not None:
            msg.add_alternative(body, subtype="html")
        msg["Content-Language"] = mail.language  # after set_content, which clears Content-*
        return msg
