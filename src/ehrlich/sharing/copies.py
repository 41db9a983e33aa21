"""The copies register: every file handed to staff is recorded before it leaves, and stays
open until someone confirms it destroyed (DESIGN §2.5: "nothing leaves without a record").

A copy is issued (who, what, why, where, until when) in the transaction that
hands out the data or before its first byte is streamed; a streamed file is
completed with its row count and SHA-256 digest when its last byte went out
(an aborted download stays recorded, without a digest: part of it may have
left). Past its expiry an open copy is overdue: the overview, `ehrlich doctor`
and the register show it until it is marked destroyed, which records who
confirmed it and when. Each step is an audit entry. When a person is erased, the
open copies of their own export fall due at once.

Who may do what: the register (`COPIES_READ`) and confirming anyone's copy
destroyed (`COPIES_DESTROY`) by role; every member of staff may see their own
copies and confirm them destroyed. A `role` of None is the machine's operator
(the CLI), who may do everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth.roles import Permission, Role, allowed, require
from ehrlich.errors import InvalidInput
from ehrlich.sharing.errors import CopyAlreadyDestroyed, CopyNotFound
from ehrlich.sharing.models import Copy
from ehrlich.sharing.schemas import (
    FORMATS,
    KIND_CONTACT,
    KINDS,
    CopyFilters,
    CopyRequest,
    CopyView,
    IssuedCopy,
    Status,
)
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database
from ehrlich.subjects.ledger import ErasureRecord
from ehrlich.subjects.service import batch_hook

MIN_REASON = 10
MIN_DESTINATION = 3
MAX_TEXT = 300
PAGE_SIZE = 50


@dataclass(frozen=True)
class Caller:
    """Who asks: the audit actor, and the staff role (None: the operator at the CLI)."""

    actor: str
    role: Role | None = None

    def may(self, permission: Permission) -> bool:
        return self.role is None or allowed(self.role, permission)

    def require(self, permission: Permission) -> None:
        if self.role is not None:
            require(self.role, permission)


def _text(value: str, field: str, minimum: int, why: str) -> str:
    text = " ".join(value.split())
    if len(text) < minimum:
        raise InvalidInput.one(field, f"{why} (at least {minimum} characters)")
    if len(text) > MAX_TEXT:
        raise InvalidInput.one(field, f"at most {MAX_TEXT} characters")
    return text


def _status(row: Copy, now: datetime) -> Status:
    if row.destroyed_at is not None:
        return "destroyed"
    return "overdue" if row.expires_at <= now else "open"


def _view(row: Copy, now: datetime) -> CopyView:
    return CopyView(
        id=row.id, kind=row.kind, holder=row.holder, what=row.what,
        fields=tuple(f for f in row.fields.split(",") if f), format=row.format,
        reason=row.reason, destination=row.destination, issued_at=row.issued_at,
        expires_at=row.expires_at, rows=row.rows, digest=row.digest,
        completed_at=row.completed_at, destroyed_at=row.destroyed_at,
        destroyed_by=row.destroyed_by, destroyed_note=row.destroyed_note,
        status=_status(row, now))


def _status_filter(status: Status, now: datetime) -> ColumnElement[bool]:
    if status == "destroyed":
        return Copy.destroyed_at.is_not(None)
    if status == "overdue":
        return and_(Copy.destroyed_at.is_(None), Copy.expires_at <= now)
    return and_(Copy.destroyed_at.is_(None), Copy.expires_at > now)


class CopiesService:
    """The register of copies handed to staff."""

    def __init__(self, audit: AuditLog, *, keep_days: int) -> None:
        self._audit = audit
        self._keep = timedelta(days=keep_days)

    @property
    def keep_days(self) -> int:
        return self._keep.days

    def expiry(self, expires: date | None, *, now: datetime) -> datetime:
        """The end of the stated day (UTC), or the default period; never past the longest."""
        latest = now + self._keep
        if expires is None:
            return latest
        if expires <= now.date():
            raise InvalidInput.one("expires", "must be a day after today")
        end = datetime.combine(expires, time(23, 59, 59), tzinfo=UTC)
        if expires > latest.date():
            raise InvalidInput.one("expires", f"may be at most {self._keep.days} days ahead "
                                              f"({latest.date().isoformat()})")
        return min(end, latest)

    def check(self, request: CopyRequest, *, now: datetime) -> CopyRequest:
        """The request with its texts tidied; raises `InvalidInput` naming each bad field."""
        problems = []
        reason = destination = ""
        for field, minimum, why in (
                ("reason", MIN_REASON, "say why this copy is needed"),
                ("destination", MIN_DESTINATION, "say where the copy goes (a tool, a "
                                                 "person, a device)")):
            try:
                value = _text(getattr(request, field), field, minimum, why)
            except InvalidInput as exc:
                problems.extend(exc.problems)
                continue
            if field == "reason":
                reason = value
            else:
                destination = value
        try:
            self.expiry(request.expires, now=now)
        except InvalidInput as exc:
            problems.extend(exc.problems)
        if request.kind not in KINDS or request.format not in FORMATS:
            raise ValueError(f"unknown copy kind or format: {request.kind}/{request.format}")
        if problems:
            raise InvalidInput(problems)
        return CopyRequest(request.kind, request.what[:200], request.fields, request.format,
                           reason, destination, request.expires)

    def issue(self, session: Session, request: CopyRequest, *, holder: str,
              now: datetime) -> IssuedCopy:
        """Record the copy (and its audit entry) in `session`, before anything is handed out."""
        request = self.check(request, now=now)
        copy_id = new_id()
        expires_at = self.expiry(request.expires, now=now)
        session.add(Copy(id=copy_id, kind=request.kind, holder=holder[:200], what=request.what,
                         fields=",".join(request.fields)[:300], format=request.format,
                         reason=request.reason, destination=request.destination,
                         issued_at=now, expires_at=expires_at))
        self._audit.record(session, AuditEvent(holder, "copy.issued", copy_id, {
            "kind": request.kind, "what": request.what, "fields": list(request.fields),
            "format": request.format, "reason": request.reason,
            "destination": request.destination, "expires": expires_at.isoformat()}), now=now)
        return IssuedCopy(copy_id, expires_at)

    def complete(self, session: Session, copy_id: str, *, rows: int, digest: str,
                 now: datetime) -> None:
        """The whole file went out: its row count and digest."""
        session.execute(update(Copy).where(Copy.id == copy_id).values(
            rows=rows, digest=digest, completed_at=now))
        self._audit.record(session, AuditEvent("system:copies", "copy.completed", copy_id, {
            "rows": rows, "digest": digest}), now=now)

    def complete_in(self, db: Database, copy_id: str, *, rows: int, digest: str,
                    now: datetime) -> None:
        with db.write() as session:
            self.complete(session, copy_id, rows=rows, digest=digest, now=now)

    # -- the register ----------------------------------------------------------------

    def _visible(self, caller: Caller) -> ColumnElement[bool] | None:
        return None if caller.may(Permission.COPIES_READ) else Copy.holder == caller.actor

    def page(self, session: Session, filters: CopyFilters, caller: Caller, *, now: datetime,
             offset: int = 0, limit: int = PAGE_SIZE) -> tuple[list[CopyView], bool]:
        """Newest first; staff without the register's permission see their own copies."""
        query = select(Copy)
        mine = self._visible(caller)
        if mine is not None:
            query = query.where(mine)
        if filters.status is not None:
            query = query.where(_status_filter(filters.status, now))
        if filters.kind:
            query = query.where(Copy.kind == filters.kind)
        if filters.holder:
            query = query.where(Copy.holder == filters.holder)
        rows = session.execute(query.order_by(Copy.issued_at.desc(), Copy.id.desc())
                               .offset(max(offset, 0)).limit(limit + 1)).scalars().all()
        return [_view(r, now) for r in rows[:limit]], len(rows) > limit

    def get(self, session: Session, copy_id: str, caller: Caller, *, now: datetime
            ) -> CopyView:
        row = session.get(Copy, copy_id[:64])
        if row is None or (not caller.may(Permission.COPIES_READ)
                           and row.holder != caller.actor):
            raise CopyNotFound(f"no copy with id {copy_id[:64]}")
        return _view(row, now)

    def destroy(self, session: Session, copy_id: str, caller: Caller, *, note: str = "",
                now: datetime) -> CopyView:
        """Record that the copy was destroyed, and who confirmed it; audited."""
        row = session.get(Copy, copy_id[:64], with_for_update=True)
        if row is None or (not caller.may(Permission.COPIES_READ)
                           and row.holder != caller.actor):
            raise CopyNotFound(f"no copy with id {copy_id[:64]}")
        if row.holder != caller.actor:
            caller.require(Permission.COPIES_DESTROY)
        if row.destroyed_at is not None:
            raise CopyAlreadyDestroyed(
                f"copy {row.id} was confirmed destroyed on {row.destroyed_at:%Y-%m-%d}")
        text = " ".join(note.split())[:MAX_TEXT]
        row.destroyed_at, row.destroyed_by, row.destroyed_note = now, caller.actor, text or None
        self._audit.record(session, AuditEvent(caller.actor, "copy.destroyed", row.id, {
            "holder": row.holder, "note": text}), now=now)
        return _view(row, now)

    def overdue(self, session: Session, *, now: datetime) -> int:
        """Open copies past their expiry (an index range on `ix_copies_open`)."""
        return int(session.execute(select(func.count()).select_from(Copy).where(
            _status_filter("overdue", now))).scalar_one())


def _due_on_erasure(session: Session, records: Sequence[ErasureRecord]) -> None:
    """Erasure hook: an open copy of an erased person's own export is due at once (its
    holder must destroy it now, not at the end of the period). Idempotent on replay."""
    by_time: dict[datetime, list[str]] = {}
    for record in records:
        by_time.setdefault(record.erased_at, []).append(record.subject_id)
    for erased_at, ids in by_time.items():
        for start in range(0, len(ids), 500):
            session.execute(update(Copy).where(
                Copy.kind == KIND_CONTACT, Copy.what.in_(ids[start:start + 500]),
                Copy.destroyed_at.is_(None), Copy.expires_at > erased_at,
            ).values(expires_at=erased_at).execution_options(synchronize_session=False))


due_on_erasure = batch_hook(_due_on_erasure)
