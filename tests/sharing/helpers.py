"""Test data for the sharing tests: a published notice, people with consent under it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.instance.service import Instance
from ehrlich.sharing.copies import Caller
from ehrlich.sharing.schemas import CopyRequest
from ehrlich.sharing.service import ExportRequest
from tests.factories import new_subject, record

OPERATOR = Caller("cli:operator")
REASON = "December mailing from the mail tool"
WHERE = "Upload to the mail tool"


def person(instance: Instance, email: str, *actions: str, version: int = 1,
           **changes: Any) -> str:
    """A subject with newsletter/email consent given under notice `version`."""
    subject_id = new_subject(instance, email)
    for action in actions or ("granted",):
        record(instance, subject_id, action, notice_version=version, **changes)
    return subject_id


def audit(instance: Instance, action: str) -> list[AuditEntry]:
    with instance.db.read() as session:
        return list(session.execute(select(AuditEntry).where(
            AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def request(fmt: str = "csv", *, purpose: str = "newsletter", channel: str = "email",
            reason: str = REASON, destination: str = WHERE,
            expires: date | None = None) -> ExportRequest:
    return ExportRequest(purpose, channel, fmt, reason, destination, expires)  # type: ignore[arg-type]


def copy_request(**changes: Any) -> CopyRequest:
    fields: dict[str, Any] = {"kind": "contact", "what": "someone", "fields": ("email",),
                              "format": "json", "reason": REASON, "destination": WHERE}
    fields.update(changes)
    return CopyRequest(**fields)
