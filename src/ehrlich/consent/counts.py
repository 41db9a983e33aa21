"""Consent counts kept at write time, for the console's overview.

Every path that appends consent events or moves a consent state into or out of
`active` calls `count_events` / `count_active` in its own transaction: `record_consent`,
`record_first_grants` (imports) and the renewal marker. `rebuild` recounts both
tables from the ledger (the migration's backfill does the same in SQL, and
`ehrlich counts rebuild` repairs an instance whose rows were written around them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from ehrlich.consent.models import (
    ConsentActiveCount,
    ConsentDailyCount,
    ConsentEvent,
    ConsentState,
)
from ehrlich.storage import tallies

DAILY = cast(Table, ConsentDailyCount.__table__)
ACTIVE = cast(Table, ConsentActiveCount.__table__)
DAILY_KEY = ("day", "purpose", "channel", "action")
ACTIVE_KEY = ("purpose", "channel")


def count_events(session: Session, events: Iterable[Mapping[str, Any]]) -> None:
    """Count appended event rows (with `at`, `purpose`, `channel`, `action`) per UTC day."""
    deltas = Counter((e["at"].astimezone(UTC).date(), e["purpose"], e["channel"], e["action"])
                     for e in events)
    tallies.add(session, DAILY, DAILY_KEY, deltas)


def count_active(session: Session, deltas: Mapping[tuple[str, str], int]) -> None:
    """Add to the active consents of each (purpose, channel)."""
    tallies.add(session, ACTIVE, ACTIVE_KEY, deltas)


def count_change(session: Session, event: Mapping[str, Any], *, before: str,
                 after: str) -> None:
    """One recorded event, which moved its state from `before` to `after`."""
    count_events(session, (event,))
    moved = (after == "active") - (before == "active")
    if moved:
        count_active(session, {(event["purpose"], event["channel"]): moved})


def event_day(session: Session) -> Any:
    """The UTC calendar day of an event, as the database spells it."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", ConsentEvent.at))
    return func.date(ConsentEvent.at)  # SQLite keeps UTC text: 'YYYY-MM-DD HH:MM:SS'


def rebuild(session: Session) -> None:
    """Recount both tables from `consent_events` and `consent_states` (shard 0)."""
    session.execute(delete(DAILY))
    session.execute(delete(ACTIVE))
    day = event_day(session)
    session.execute(insert(DAILY).from_select(
        [*DAILY_KEY, "shard", "count"],
        select(day, ConsentEvent.purpose, ConsentEvent.channel, ConsentEvent.action,
               literal(0), func.count())
        .group_by(day, ConsentEvent.purpose, ConsentEvent.channel, ConsentEvent.action)))
    session.execute(insert(ACTIVE).from_select(
        [*ACTIVE_KEY, "shard", "count"],
        select(ConsentState.purpose, ConsentState.channel, literal(0), func.count())
        .where(ConsentState.state == "active")
        .group_by(ConsentState.purpose, ConsentState.channel)))
