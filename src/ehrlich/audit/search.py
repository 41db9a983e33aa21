"""Reading the audit chain a page at a time: filters by actor, action, target and time,
newest first, keyset-paged on the sequence number (each filter has an index that yields
entries in that order, so a page costs the same on the first day and after years)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.models import AuditEntry
from ehrlich.errors import FieldProblem, InvalidInput

PAGE_SIZE = 50
DETAIL_SHOWN = 300  # characters of an entry's detail shown in a listing


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None  # inclusive: the whole day

    @classmethod
    def parse(cls, *, actor: str = "", action: str = "", target: str = "", since: str = "",
              until: str = "") -> AuditFilter:
        """From form fields; every bad field is named."""
        problems = []
        days: dict[str, date | None] = {}
        for name, value in (("since", since), ("until", until)):
            try:
                days[name] = date.fromisoformat(value.strip()) if value.strip() else None
            except ValueError:
                problems.append(FieldProblem(name, "write a date as YYYY-MM-DD"))
                days[name] = None
        for name, value, limit in (("actor", actor, 200), ("action", action, 100),
                                   ("target", target, 200)):
            if len(value.strip()) > limit:
                problems.append(FieldProblem(name, f"at most {limit} characters"))
        if problems:
            raise InvalidInput(problems)
        return cls(actor.strip(), action.strip(), target.strip(), days["since"], days["until"])


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None  # the `before` of the next (older) page, if there is one


def search(session: Session, where: AuditFilter, *, before: int | None = None,
           limit: int = PAGE_SIZE) -> AuditPage:
    """Entries matching every given filter, newest first, older than `before`."""
    query = select(AuditEntry)
    if where.actor:
        query = query.where(AuditEntry.actor == where.actor)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.target:
        query = query.where(AuditEntry.target == where.target)
    if where.since is not None:
        query = query.where(AuditEntry.at >= datetime.combine(where.since, time(), UTC))
    if where.until is not None:
        end = datetime.combine(where.until + timedelta(days=1), time(), UTC)
        query = query.where(AuditEntry.at < end)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    rows = list(session.execute(query.order_by(AuditEntry.seq.desc()).limit(limit + 1))
                .scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].seq if more and rows else None)
