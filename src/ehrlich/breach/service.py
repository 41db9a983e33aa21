"""The breach register: open, scope, update and close a suspected personal-data breach.

GDPR Art. 33 asks the controller to tell the supervisory authority within 72 hours of
becoming aware (unless the breach is unlikely to result in a risk, which is then
recorded), and to document every breach: facts, effects, measures (Art. 33(5)).
Art. 34 asks that the people be told where the risk is high, in clear language, with
the DPO's contact, the likely consequences and the measures.

How many people: `scope` counts, from the audit chain, everyone a given API token or
member of staff read in a time window (`audit.scope`); the count and its scope are
stored, the people are not. Every change is audited (`breach.*`, field names only).
A breach is closed only once the authority question is settled (notified, or why
not) and the people question too (told, or why not).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.scope import ListReader, ReadScope, subjects_read
from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.breach.models import Breach
from ehrlich.breach.schemas import BreachChanges, BreachView, NewBreach, Scope
from ehrlich.errors import Conflict, FieldProblem, InvalidInput, NotFound
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.schemas import Notice
from ehrlich.notices.service import NoticesService
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database


class BreachNotFound(NotFound):
    title = "Breach not found"


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def view(row: Breach) -> BreachView:
    return BreachView(
        id=row.id, title=row.title, what_happened=row.what_happened, noticed_at=row.noticed_at,
        data_categories=list(json.loads(row.data_categories or "[]")),
        people_estimate=row.people_estimate, scope_actor=row.scope_actor,
        scope_start=row.scope_start, scope_end=row.scope_end,
        people_counted=row.people_counted, batch_rows=row.batch_rows,
        counted_at=row.counted_at, consequences=row.consequences, measures=row.measures,
        authority_notified_at=row.authority_notified_at,
        authority_reference=row.authority_reference,
        authority_not_notified=row.authority_not_notified,
        tell_people=row.tell_people,  # type: ignore[arg-type]  # only TELL_PEOPLE are stored
        tell_people_reason=row.tell_people_reason,
        people_notified_at=row.people_notified_at, notice_en=row.notice_en,
        notice_de=row.notice_de, status=row.status,  # type: ignore[arg-type]
        opened_by=row.opened_by, opened_at=row.opened_at, updated_by=row.updated_by,
        updated_at=row.updated_at, closed_at=row.closed_at, closed_by=row.closed_by)


def open_breaches(session: Session) -> list[BreachView]:
    """Breaches not closed, the oldest noticed first (the overview, `doctor`)."""
    return [view(r) for r in session.execute(
        select(Breach).where(Breach.status == "open").order_by(Breach.noticed_at)).scalars()]


class BreachService:
    """The breach register and its 72-hour clock."""

    def __init__(self, audit: AuditLog, notices: NoticesService,
                 lists: ListReader | None = None) -> None:
        self._audit = audit
        self._notices = notices
        self._lists = lists

    def notice(self, session: Session) -> Notice | None:
        """The published notice (data categories, controller, DPO), if there is one."""
        try:
            return self._notices.current(session).notice
        except NoticeNotPublished:
            return None

    def _check(self, session: Session, *, now: datetime, noticed_at: datetime | None = None,
               categories: list[str] | None = None) -> None:
        problems = []
        if noticed_at is not None and _utc(noticed_at) > now:
            problems.append(FieldProblem("noticed_at", "is in the future; enter when the "
                                         "breach was noticed"))
        notice = self.notice(session)
        if categories and notice is not None:
            unknown = [c for c in categories if c not in notice.data_categories]
            if unknown:
                problems.append(FieldProblem("data_categories", (
                    f"not a data category of the published notice: {', '.join(unknown)}; "
                    f"use {', '.join(notice.data_categories)}")))
        if problems:
            raise InvalidInput(problems)

    def _row(self, session: Session, breach_id: str, *, lock: bool = False) -> Breach:
        query = select(Breach).where(Breach.id == breach_id[:64])
        row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        if row is None:
            raise BreachNotFound(f"no breach with id {breach_id[:64]}; "
                                 "`ehrlich breach list` shows them")
        return row

    def open(self, db: Database, data: NewBreach, *, actor: str, now: datetime) -> BreachView:
        with db.write() as session:
            self._check(session, now=now, noticed_at=data.noticed_at,
                        categories=data.data_categories)
            row = Breach(id=new_id(), title=data.title, what_happened=data.what_happened,
                         noticed_at=_utc(data.noticed_at),
                         data_categories=json.dumps(sorted(set(data.data_categories))),
                         people_estimate=data.people_estimate, consequences="", measures="",
                         tell_people="undecided", tell_people_reason="", status="open",
                         opened_by=actor, opened_at=now, updated_by=actor, updated_at=now)
            session.add(row)
            session.flush()
            self._audit.record(session, AuditEvent(actor, "breach.open", row.id, {
                "noticed_at": row.noticed_at.isoformat()}), now=now)
            return view(row)

    def listing(self, db: Database, *, status: str | None = None) -> list[BreachView]:
        """Newest noticed first."""
        with db.read() as session:
            query = select(Breach).order_by(Breach.noticed_at.desc(), Breach.id)
            if status is not None:
                query = query.where(Breach.status == status)
            return [view(r) for r in session.execute(query).scalars()]

    def open_breaches(self, session: Session) -> list[BreachView]:
        """For the console's overview: breaches not closed, oldest first."""
        return open_breaches(session)

    def get(self, db: Database, breach_id: str) -> BreachView:
        with db.read() as session:
            return view(self._row(session, breach_id))

    def update(self, db: Database, breach_id: str, changes: BreachChanges, *, actor: str,
               now: datetime) -> BreachView:
        """Change the fields given in `changes`; a closed breach cannot change."""
        given = {name: getattr(changes, name) for name in sorted(changes.model_fields_set)}
        if not given:
            raise InvalidInput.one("input", "nothing to change: give at least one field")
        with db.write() as session:
            row = self._row(session, breach_id, lock=True)
            if row.status != "open":
                raise Conflict("the breach is closed; its record no longer changes")
            self._check(session, now=now, noticed_at=given.get("noticed_at"),
                        categories=given.get("data_categories"))
            for name in ("authority_notified_at", "people_notified_at"):
                if given.get(name) is not None and _utc(given[name]) > now:
                    raise InvalidInput.one(name, "is in the future")
            for name, value in given.items():
                stored: Any = value
                if isinstance(value, datetime):
                    stored = _utc(value)
                elif name == "data_categories":
                    stored = json.dumps(sorted(set(value or [])))
                elif name in ("title", "tell_people", "noticed_at") and value is None:
                    raise InvalidInput.one(name, "cannot be empty")
                elif name in ("what_happened", "consequences", "measures",
                              "tell_people_reason") and value is None:
                    stored = ""
                setattr(row, name, stored)
            row.updated_by, row.updated_at = actor, now
            self._audit.record(session, AuditEvent(actor, "breach.update", row.id, {
                "fields": list(given)}), now=now)
            return view(row)

    def scope(self, db: Database, breach_id: str, scope: Scope, *, actor: str,
              now: datetime) -> tuple[BreachView, ReadScope]:
        """Count, from the audit chain, the people `scope.actor` read in the window, and
        store the count with its scope on the breach."""
        start, end = _utc(scope.start), _utc(scope.end)
        if end <= start:
            raise InvalidInput.one("end", "must be after the start")
        with db.write() as session:
            row = self._row(session, breach_id, lock=True)
            if row.status != "open":
                raise Conflict("the breach is closed; its record no longer changes")
            found = subjects_read(session, actor=scope.actor, start=start, end=end,
                                  lists=self._lists)
            row.scope_actor, row.scope_start, row.scope_end = scope.actor, start, end
            row.people_counted, row.batch_rows = len(found.subjects), found.batch_rows
            row.counted_at = now
            row.updated_by, row.updated_at = actor, now
            self._audit.record(session, AuditEvent(actor, "breach.scope", row.id, {
                "actor": scope.actor, "start": start.isoformat(), "end": end.isoformat(),
                "people": len(found.subjects), "batch_rows": found.batch_rows}), now=now)
            return view(row), found

    def close(self, db: Database, breach_id: str, *, actor: str, now: datetime) -> BreachView:
        with db.write() as session:
            row = self._row(session, breach_id, lock=True)
            if row.status != "open":
                raise Conflict("the breach is already closed")
            problems = []
            if row.authority_notified_at is None and not row.authority_not_notified:
                problems.append(FieldProblem("authority_notified_at", (
                    "record when the supervisory authority was notified, or why it is not "
                    "(Art. 33(1))")))
            if row.tell_people == "undecided":
                problems.append(FieldProblem("tell_people", "decide whether the people must "
                                             "be told (Art. 34)"))
            elif row.tell_people == "yes" and row.people_notified_at is None:
                problems.append(FieldProblem("people_notified_at",
                                             "record when the people were told"))
            elif row.tell_people == "no" and not row.tell_people_reason:
                problems.append(FieldProblem("tell_people_reason",
                                             "say why the people are not told (Art. 34(3))"))
            if problems:
                raise InvalidInput(problems)
            row.status, row.closed_at, row.closed_by = "closed", now, actor
            row.updated_by, row.updated_at = actor, now
            self._audit.record(session, AuditEvent(actor, "breach.close", row.id), now=now)
            return view(row)
