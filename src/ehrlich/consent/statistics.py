"""Consent figures for the console's overview: aggregates only, never a person.

Two grouped queries, each answered from an index alone:
- `daily_activity`: signups, confirmations and withdrawals per day over a window,
  from `consent_events` by (at, action) (index `ix_consent_events_at_action`);
- `active_by_purpose`: active consents per purpose and channel, from
  `consent_states` (index `ix_consent_states_audience`).
Events are counted per purpose: one signup for two purposes is two requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.consent.models import ConsentEvent, ConsentState

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


def _day(session: Session) -> Any:
    """The UTC calendar day of an event, as the database spells it."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", ConsentEvent.at))
    return func.date(ConsentEvent.at)  # SQLite keeps UTC text: 'YYYY-MM-DD HH:MM:SS'


def daily_activity(session: Session, *, days: int, today: date) -> DailyActivity:
    """Counts per day for the `days` days ending with `today` (UTC), in one grouped query."""
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(0), tzinfo=UTC)
    day = _day(session).label("day")
    rows = session.execute(
        select(day, ConsentEvent.action, func.count())
        .where(ConsentEvent.at >= since, ConsentEvent.action.in_(tuple(_SERIES_OF)))
        .group_by(day, ConsentEvent.action)).all()
    window = tuple(first + timedelta(days=n) for n in range(days))
    position = {d: n for n, d in enumerate(window)}
    counts = {name: [0] * days for name in SERIES}
    for when, action, n in rows:
        index = position.get(date.fromisoformat(str(when)[:10]))
        if index is not None:  # an event stamped after `today` belongs to no bar
            counts[_SERIES_OF[action]][index] += int(n)
    return DailyActivity(window, {name: tuple(v) for name, v in counts.items()})


def active_by_purpose(session: Session) -> list[ActiveCount]:
    """Active consents per purpose and channel, largest first."""
    rows = session.execute(
        select(ConsentState.purpose, ConsentState.channel, func.count())
        .where(ConsentState.state == "active")
        .group_by(ConsentState.purpose, ConsentState.channel)).all()
    found = [ActiveCount(str(p), str(c), int(n)) for p, c, n in rows]
    return sorted(found, key=lambda a: (-a.count, a.purpose, a.channel))
