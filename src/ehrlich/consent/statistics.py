"""Consent figures for the console's overview: aggregates only, never a person.

Both read the counts kept at write time (`consent.counts`), so their cost does not
grow with the population:
- `daily_activity`: signups, confirmations and withdrawals per day over a window,
  from `consent_daily_counts`;
- `active_by_purpose`: active consents per purpose and channel, from
  `consent_active_counts`.
`recount_daily_activity` and `recount_active_by_purpose` answer the same from the
ledger itself (grouped over `consent_events` and `consent_states`): the check that
the counts hold, and the benchmark's baseline.
Events are counted per purpose: one signup for two purposes is two requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.consent.counts import event_day
from ehrlich.consent.models import (
    ConsentActiveCount,
    ConsentDailyCount,
    ConsentEvent,
    ConsentState,
)

SERIES: dict[str, tuple[str, ...]] = {
    "signups": ("requested",),
    "confirmations": ("confirmed", "granted"),
    "withdrawals": ("withdrawn", "objected"),
}
"""Which ledger actions each daily series counts: asked, became active, ended by the person."""
_SERIES_OF = {action: name for name, actions in SERIES.items() for action in actions}


@dataclass(frozen=True)
class DailyActivity:
    """One count per day and series, oldest day first, every day of the window present."""

    days: tuple[date, ...]
    series: dict[str, tuple[int, ...]]

    def total(self, name: str) -> int:
        return sum(self.series[name])


@dataclass(frozen=True)
class ActiveCount:
    purpose: str
    channel: str
    count: int


def daily_activity(session: Session, *, days: int, today: date) -> DailyActivity:
    """Counts per day for the `days` days ending with `today` (UTC), from the kept counts."""
    first = today - timedelta(days=days - 1)
    daily = ConsentDailyCount
    rows = session.execute(
        select(daily.day, daily.action, func.sum(daily.count))
        .where(daily.day >= first, daily.day <= today, daily.action.in_(tuple(_SERIES_OF)))
        .group_by(daily.day, daily.action)).all()
    return _activity(first, days, rows)


def recount_daily_activity(session: Session, *, days: int, today: date) -> DailyActivity:
    """`daily_activity` counted from the ledger, in one grouped query over its events."""
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(0), tzinfo=UTC)
    day = event_day(session).label("day")
    rows = session.execute(
        select(day, ConsentEvent.action, func.count())
        .where(ConsentEvent.at >= since, ConsentEvent.action.in_(tuple(_SERIES_OF)))
        .group_by(day, ConsentEvent.action)).all()
    return _activity(first, days, rows)


def _activity(first: date, days: int, rows: Iterable[Any]) -> DailyActivity:
    window = tuple(first + timedelta(days=n) for n in range(days))
    position = {d: n for n, d in enumerate(window)}
    counts = {name: [0] * days for name in SERIES}
    for when, action, n in rows:
        index = position.get(date.fromisoformat(str(when)[:10]))
        if index is not None:  # an event stamped after `today` belongs to no bar
            counts[_SERIES_OF[action]][index] += int(n)
    return DailyActivity(window, {name: tuple(v) for name, v in counts.items()})


def active_by_purpose(session: Session) -> list[ActiveCount]:
    """Active consents per purpose and channel, largest first, from the kept counts."""
    active = ConsentActiveCount
    total = func.sum(active.count)
    rows = session.execute(
        select(active.purpose, active.channel, total)
        .group_by(active.purpose, active.channel).having(total != 0)).all()
    return _largest_first(rows)


def recount_active_by_purpose(session: Session) -> list[ActiveCount]:
    """`active_by_purpose` counted from `consent_states`."""
    rows = session.execute(
        select(ConsentState.purpose, ConsentState.channel, func.count())
        .where(ConsentState.state == "active")
        .group_by(ConsentState.purpose, ConsentState.channel)).all()
    return _largest_first(rows)


def _largest_first(rows: Iterable[Any]) -> list[ActiveCount]:
    found = [ActiveCount(str(p), str(c), int(n)) for p, c, n in rows]
    return sorted(found, key=lambda a: (-a.count, a.purpose, a.channel))
