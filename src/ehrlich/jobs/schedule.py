"""Cron schedules for periodic jobs: `crontab(minute="*/5")` is due every fifth minute.

The five cron fields (minute hour day month weekday, weekday 0 = Sunday), each
`*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma-separated list
of those. A schedule is a function of the minute (UTC) that says whether it is due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ehrlich.errors import InvalidInput

Schedule = Callable[[datetime], bool]
_BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12),
           "day_of_week": (0, 6)}


def _values(field: str, text: str) -> frozenset[int]:
    low, high = _BOUNDS[field]
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                start, end = low, high
            elif "-" in body:
                first, last = body.split("-", 1)
                start, end = int(first), int(last)
            else:
                start = end = int(body)
        except ValueError:
            raise InvalidInput.one(field, f"{part!r} is not a cron field") from None
        if step < 1 or not low <= start <= end <= high:
            raise InvalidInput.one(field, f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def crontab(minute: str = "*", hour: str = "*", day: str = "*", month: str = "*",
            day_of_week: str = "*") -> Schedule:
    fields = {"minute": minute, "hour": hour, "day": day, "month": month,
              "day_of_week": day_of_week}
    allowed = {name: _values(name, text) for name, text in fields.items()}

    def due(at: datetime) -> bool:
        weekday = (at.weekday() + 1) % 7  # Python's Monday 0 as cron's Sunday 0
        return (at.minute in allowed["minute"] and at.hour in allowed["hour"]
                and at.day in allowed["day"] and at.month in allowed["month"]
                and weekday in allowed["day_of_week"])

    return due
