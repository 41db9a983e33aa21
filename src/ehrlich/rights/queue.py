"""The request queue's rules: recording, the one-month deadline and its extension,
closing, and what is due soon (GDPR Art. 12(3)).

A request is due one calendar month after it was received; it may be extended
once or more, with a reason, to at most three months after receipt ("by two
further months"). Every change appends to the audit chain in the same transaction.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.errors import Conflict, InvalidInput, NotFound
from ehrlich.rights.models import DataRequest
from ehrlich.rights.schemas import (
    CHANNELS,
    IDENTITY_CHECKS,
    KINDS,
    OPEN_STATUSES,
    STATUSES,
    Channel,
    IdentityCheck,
    Kind,
    NewRequest,
    RequestView,
    Status,
)
from ehrlich.storage.base import new_id
from ehrlich.subjects.schemas import has_control_characters

MAX_EXTENSION_MONTHS = 2
PAGE_SIZE = 50


class RequestNotFound(NotFound):
    title = "Data request not found"


class RequestClosed(Conflict):
    title = "Data request closed"


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day when it has no such day
    (received 31 January: due 28 or 29 February)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _view(row: DataRequest) -> RequestView:
    return RequestView(
        id=row.id, kind=cast(Kind, row.kind), channel=cast(Channel, row.channel),
        subject_id=row.subject_id, received_at=row.received_at,
        identity_check=cast(IdentityCheck, row.identity_check), due_at=row.due_at,
        extended_to=row.extended_to, extension_reason=row.extension_reason,
        status=cast(Status, row.status), result=row.result, recorded_by=row.recorded_by,
        closed_at=row.closed_at, closed_by=row.closed_by)


def _text(field: str, value: str, *, minimum: int, maximum: int) -> str:
    text = value.strip()
    if len(text) < minimum:
        raise InvalidInput.one(field, f"write at least {minimum} characters")
    if len(text) > maximum:
        raise InvalidInput.one(field, f"write at most {maximum} characters")
    if has_control_characters(text):
        raise InvalidInput.one(field, "must not contain control characters")
    return text


def check_new(data: NewRequest, *, now: datetime) -> None:
    """`InvalidInput` naming the first wrong field; nothing is written."""
    if data.kind not in KINDS:
        raise InvalidInput.one("kind", f"must be one of {', '.join(KINDS)}")
    if data.channel not in CHANNELS:
        raise InvalidInput.one("channel", f"must be one of {', '.join(CHANNELS)}")
    if data.identity_check not in IDENTITY_CHECKS:
        raise InvalidInput.one("identity_check",
                               f"must be one of {', '.join(IDENTITY_CHECKS)}")
    if data.received_at.tzinfo is None:
        raise InvalidInput.one("received_at", "give a date and time with a time zone")
    if data.received_at > now + timedelta(minutes=5):
        raise InvalidInput.one("received_at", "lies in the future")


def record(session: Session, audit: AuditLog, data: NewRequest, *, actor: str,
           now: datetime, status: Status = "open", result: str | None = None,
           note_id: str | None = None) -> RequestView:
    check_new(data, now=now)
    row = DataRequest(
        id=new_id(), kind=data.kind, channel=data.channel, subject_id=data.subject_id,
        received_at=data.received_at, identity_check=data.identity_check,
        due_at=add_months(data.received_at, 1), status=status, result=result,
        note_id=note_id, recorded_by=actor,
        closed_at=now if status not in OPEN_STATUSES else None,
        closed_by=actor if status not in OPEN_STATUSES else None)
    session.add(row)
    session.flush()
    audit.record(session, AuditEvent(actor, "rights.request.record", row.id, {
        "kind": data.kind, "channel": data.channel, "status": status,
        **({"subject": data.subject_id} if data.subject_id else {})}), now=now)
    return _view(row)


def _row(session: Session, request_id: str, *, lock: bool = False) -> DataRequest:
    query = select(DataRequest).where(DataRequest.id == request_id[:64])
    found = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if found is None:
        raise RequestNotFound(f"no data request with id {request_id[:64]}")
    return found


def get(session: Session, request_id: str) -> RequestView:
    return _view(_row(session, request_id))


def extend(session: Session, audit: AuditLog, request_id: str, *, months: int, reason: str,
           actor: str, now: datetime) -> RequestView:
    """Move the due date, with a reason, to at most three months after receipt."""
    row = _row(session, request_id, lock=True)
    if row.status not in OPEN_STATUSES:
        raise RequestClosed("this request is closed; it cannot be extended")
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        raise InvalidInput.one("months", f"extend by 1 to {MAX_EXTENSION_MONTHS} months")
    text = _text("reason", reason, minimum=10, maximum=500)
    latest = add_months(row.received_at, 1 + MAX_EXTENSION_MONTHS)
    target = add_months(row.extended_to or row.due_at, months)
    if target > latest:
        raise InvalidInput.one("months", "a request may be extended to at most three months "
                               f"after it was received ({latest:%Y-%m-%d})")
    row.extended_to, row.extension_reason, row.status = target, text, "extended"
    audit.record(session, AuditEvent(actor, "rights.request.extend", row.id, {
        "to": target.isoformat(), "reason": text}), now=now)
    return _view(row)


def close(session: Session, audit: AuditLog, request_id: str, *, status: Status,
          result: str, actor: str, now: datetime) -> RequestView:
    row = _row(session, request_id, lock=True)
    if row.status not in OPEN_STATUSES:
        raise RequestClosed("this request is already closed")
    if status in OPEN_STATUSES or status not in STATUSES:
        raise InvalidInput.one("status", "must be done or refused")
    row.result = _text("result", result, minimum=3, maximum=1000)
    row.status, row.closed_at, row.closed_by = status, now, actor
    audit.record(session, AuditEvent(actor, "rights.request.close", row.id, {
        "status": status}), now=now)
    return _view(row)


def subject_of(session: Session, request_id: str) -> str | None:
    return _row(session, request_id).subject_id


def listing(session: Session, *, status: str | None = None, kind: str | None = None,
            offset: int = 0) -> tuple[list[RequestView], int]:
    """One page of requests, the earliest due first; and how many match."""
    due = func.coalesce(DataRequest.extended_to, DataRequest.due_at)
    query = select(DataRequest)
    if status == "open":
        query = query.where(DataRequest.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(DataRequest.status == status)
    if kind:
        query = query.where(DataRequest.kind == kind)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(due, DataRequest.id).offset(max(offset, 0))
                           .limit(PAGE_SIZE)).scalars().all()
    return [_view(r) for r in rows], int(total)


def due_before(session: Session, moment: datetime, *, unreminded_since: datetime | None = None
               ) -> list[RequestView]:
    """Open requests due before `moment`, the earliest first; with `unreminded_since`,
    only those whose owner was not reminded since then."""
    due = func.coalesce(DataRequest.extended_to, DataRequest.due_at)
    query = select(DataRequest).where(DataRequest.status.in_(OPEN_STATUSES), due < moment)
    if unreminded_since is not None:
        query = query.where(or_(DataRequest.reminded_at.is_(None),
                                DataRequest.reminded_at < unreminded_since))
    return [_view(r) for r in session.execute(query.order_by(due, DataRequest.id)).scalars()]


def mark_reminded(session: Session, ids: list[str], *, now: datetime) -> None:
    for row in session.execute(select(DataRequest).where(DataRequest.id.in_(ids))).scalars():
        row.reminded_at = now


def of_subject(session: Session, subject_id: str) -> list[RequestView]:
    return [_view(r) for r in session.execute(
        select(DataRequest).where(DataRequest.subject_id == subject_id)
        .order_by(DataRequest.received_at)).scalars()]
