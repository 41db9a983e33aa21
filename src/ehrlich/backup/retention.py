"""Grandfather-father-son retention, as a pure function of the backup times.

Buckets are calendar periods (UTC) counted back from `now`: the newest
backup of each of the last `daily` days, `weekly` ISO weeks and `monthly`
months is kept, and the newest backup of all is always kept. Everything else
is pruned. Because buckets are anchored at `now`, not at the backups, the
age of the oldest kept backup is bounded (see `max_backup_age`) as long as
backups keep running; this bound is what the notice states as how long
erased data may survive in backups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ehrlich.errors import InvalidInput


@dataclass(frozen=True)
class RetentionPolicy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 3

    def __post_init__(self) -> None:
        for name in ("daily", "weekly", "monthly"):
            if getattr(self, name) < 0:
                raise InvalidInput.one(f"backup_keep.{name}", "must be 0 or more")
        if self.daily + self.weekly + self.monthly == 0:
            raise InvalidInput.one("backup_keep", "keep at least one backup per period")


def _day(d: date) -> int:
    return d.toordinal()


def _week(d: date) -> int:
    return (d - timedelta(days=d.weekday())).toordinal() // 7


def _month(d: date) -> int:
    return d.year * 12 + d.month - 1


def _newest_per_bucket(times: list[datetime], count: int, bucket: Callable[[date], int],
                       now: datetime) -> set[datetime]:
    if count == 0:
        return set()
    current = bucket(now.date())
    newest: dict[int, datetime] = {}
    for t in times:
        b = bucket(t.date())
        if current - count < b <= current and (b not in newest or t > newest[b]):
            newest[b] = t
    return set(newest.values())


def keep(times: Iterable[datetime], policy: RetentionPolicy, *, now: datetime
         ) -> set[datetime]:
    """The backup times to keep; the others may be deleted."""
    past = [t for t in times if t <= now]
    kept = {t for t in times if t > now}  # clock skew: never delete what looks new
    if past:
        kept.add(max(past))
    kept |= _newest_per_bucket(past, policy.daily, _day, now)
    kept |= _newest_per_bucket(past, policy.weekly, _week, now)
    kept |= _newest_per_bucket(past, policy.monthly, _month, now)
    return kept


_PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1),
            "monthly": timedelta(days=31)}


def max_backup_age(policy: RetentionPolicy, interval: timedelta) -> timedelta:
    """How old a backup can get before it is deleted, with backups every `interval`.

    At a prune, the oldest kept backup is the newest one of the oldest bucket
    of some kind: at most (count - 1) periods plus one interval before `now`
    (months count as 31 days). A prune follows every backup, so a backup that
    falls out is deleted at most one interval later: hence two intervals.
    """
    counts = {"daily": policy.daily, "weekly": policy.weekly, "monthly": policy.monthly}
    spans = [(counts[name] - 1) * period for name, period in _PERIODS.items()
             if counts[name] > 0]
    return max(spans) + 2 * interval
