"""Subjects per state (active, erased), kept in the transactions that create and erase
them (`storage.tallies`), so the console's overview need not count a million rows."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, delete, func, insert, inspect, literal, select
from sqlalchemy.orm import Session

from ehrlich.storage import tallies
from ehrlich.subjects.models import Subject, SubjectCount

COUNTS = cast(Table, SubjectCount.__table__)


def count(session: Session, deltas: dict[str, int]) -> None:
    """Move the kept counts of subjects per state, in the caller's transaction."""
    tallies.add(session, COUNTS, ("state",), {(state,): n for state, n in deltas.items()})


def kept(session: Session) -> bool:
    """False in a database from before the counts (a restored old backup): the migration
    that adds them counts the rows as they are by then."""
    return inspect(session.connection()).has_table(COUNTS.name)


def by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(SubjectCount.state, func.sum(SubjectCount.count))
                           .group_by(SubjectCount.state)).all()
    return {str(state): int(n) for state, n in rows if n}


def recount(session: Session) -> dict[str, int]:
    """`by_state` counted from the subjects table itself (a full scan)."""
    rows = session.execute(select(Subject.state, func.count()).group_by(Subject.state)).all()
    return {str(state): int(n) for state, n in rows}


def rebuild(session: Session) -> None:
    """Recount `subject_counts` from the subjects table (shard 0)."""
    session.execute(delete(SubjectCount))
    session.execute(insert(COUNTS).from_select(
        ["state", "shard", "count"],
        select(Subject.state, literal(0), func.count()).group_by(Subject.state)))
