"""Reading bounce and complaint reports: DSNs (RFC 3464) and ARF reports (RFC 5965).

Pure: bytes in, `Feedback` out; no database, no clock. Both are a
`multipart/report` (RFC 6522) whose `report-type` says which:

- `delivery-status`: the second part holds one block of per-message fields,
  then one block per recipient. A recipient with `Action: failed` and a
  `Status` of 5.x.x (RFC 3463) is a **hard** bounce; a 4.x.x status (or
  `Action: delayed`) is **soft**, the server still trying. `delivered`,
  `relayed` and `expanded` are no bounce at all.
- `feedback-report`: the second part's `Feedback-Type: abuse` (or `fraud`) is
  a **complaint**; `not-spam`, `virus` and `other` are left for a person.

The third part is the original message or its headers (`message/rfc822` or
`text/rfc822-headers`); its `Message-ID` is the one ehrlich gave the campaign
mail (one per send row), which is how a report finds its send. A report
without one cannot be matched and yields nothing. Whatever the bytes,
`parse_report` returns a list and never raises: the mailbox is read by a
job, and a malformed message is left for a person.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser, HeaderParser
from typing import Final, Literal

Kind = Literal["hard", "soft", "complaint"]
KINDS: Final[tuple[Kind, ...]] = ("hard", "soft", "complaint")
COMPLAINT_TYPES: Final[frozenset[str]] = frozenset({"abuse", "fraud"})
_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})")
_MESSAGE_ID = re.compile(r"<?\s*([^<>\s]+@[^<>\s]+?)\s*>?$")
MAX_REPORT_BYTES = 256 * 1024


@dataclass(frozen=True)
class Feedback:
    """One recipient's bounce or one complaint, about the mail with `message_id`."""

    kind: Kind
    message_id: str
    """Normalised: `<local@domain>`."""
    address: str | None = None
    """The recipient the report names (Final-Recipient, Original-Rcpt-To), if any."""
    status: str | None = None
    """The enhanced status code of a bounce, e.g. `5.1.1`."""


def normalise_message_id(value: str) -> str | None:
    """`<local@domain>` from a Message-ID with or without its angle brackets (providers'
    webhooks often drop them); None when it is not one."""
    found = _MESSAGE_ID.match(value.strip())
    if found is None or len(found.group(1)) > 196:
        return None
    return f"<{found.group(1)}>"


def classify(action: str, status: str) -> Kind | None:
    """A DSN recipient block's `Action` and `Status` as a bounce kind (None: no bounce)."""
    action = action.strip().lower()
    code = _STATUS.match(status)
    if action == "delayed":
        return "soft"
    if action != "failed":
        return None
    if code is None:
        return "hard"  # failed without a readable code: the server gave up for good
    return "hard" if code.group(1) == "5" else "soft" if code.group(1) == "4" else None


def _address(value: str | None) -> str | None:
    """The address of `rfc822; user@example.org` (address type and spaces dropped)."""
    if not value:
        return None
    address = str(value).rpartition(";")[2].strip().strip("<>").strip()
    return address if "@" in address else None


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a `message/delivery-status` or `message/feedback-report` part,
    whether the parser made sub-messages of them or left the text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    if isinstance(payload, str):
        text = payload.replace("\r\n", "\n")
        return [HeaderParser().parsestr(block + "\n", headersonly=True)
                for block in re.split(r"\n\s*\n", text) if block.strip()]
    return []


def _original_message_id(report: Message) -> str | None:
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return normalise_message_id(str(inner.get("Message-ID")))
        elif kind == "text/rfc822-headers":
            text = part.get_payload(decode=True)
            if isinstance(text, bytes):
                headers = HeaderParser().parsestr(text.decode("utf-8", "replace"),
                                                  headersonly=True)
                if headers.get("Message-ID"):
                    return normalise_message_id(str(headers.get("Message-ID")))
    return None


def _part(report: Message, content_type: str) -> Message | None:
    return next((p for p in report.walk() if p.get_content_type() == content_type), None)


def _delivery_status(report: Message, message_id: str) -> list[Feedback]:
    part = _part(report, "message/delivery-status")
    if part is None:
        return []
    found: list[Feedback] = []
    for block in _field_blocks(part)[1:]:  # the first block is about the message
        kind = classify(str(block.get("Action", "")), str(block.get("Status", "")))
        if kind is None:
            continue
        code = _STATUS.match(str(block.get("Status", "")))
        address = (_address(block.get("Original-Recipient"))
                   or _address(block.get("Final-Recipient")))
        found.append(Feedback(kind, message_id, address,
                              ".".join(code.groups()) if code else None))
    return found


def _feedback_report(report: Message, message_id: str) -> list[Feedback]:
    part = _part(report, "message/feedback-report")
    if part is None:
        return []
    fields: dict[str, str] = {}
    for block in _field_blocks(part):
        for key, value in block.items():
            fields.setdefault(key.lower(), str(value))
    if fields.get("feedback-type", "").strip().lower() not in COMPLAINT_TYPES:
        return []
    return [Feedback("complaint", message_id, _address(fields.get("original-rcpt-to")))]


_READERS = {"delivery-status": _delivery_status, "feedback-report": _feedback_report}


def parse_report(raw: bytes) -> list[Feedback]:
    """The bounces or the complaint a mail reports; [] for anything else. Never raises."""
    if len(raw) > MAX_REPORT_BYTES:
        return []
    try:
        report = BytesParser(policy=email.policy.compat32).parsebytes(raw)
        if report.get_content_type() != "multipart/report":
            return []
        reader = _READERS.get(str(report.get_param("report-type", "") or "").lower())
        message_id = _original_message_id(report)
        if reader is None or message_id is None:
            return []
        return reader(report, message_id)
    except Exception:  # a malformed report is left for a person, never fatal
        return []
