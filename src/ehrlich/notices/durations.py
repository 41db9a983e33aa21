"""Concrete durations for retention periods: "2 years", "18 months", "90 days", "P2Y".

A duration is kept as the text the author wrote (shown to people) and compared
exactly within months/years or weeks/days, and across the two by an upper
bound in days (a month counts as 31 days), so "longer retention" is decidable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNIT_DAYS = {"day": 1, "week": 7, "month": 31, "year": 366}
_UNITS = {
    "day": "day", "days": "day", "d": "day", "tag": "day", "tage": "day",
    "week": "week", "weeks": "week", "w": "week", "woche": "week", "wochen": "week",
    "month": "month", "months": "month", "monat": "month", "monate": "month",
    "year": "year", "years": "year", "y": "year", "jahr": "year", "jahre": "year",
}
_PLAIN = re.compile(r"^\s*(\d{1,4})\s*([A-Za-z]+)\s*$")
_ISO = re.compile(r"^P(\d{1,4})([YMWD])$")
_ISO_UNITS = {"Y": "year", "M": "month", "W": "week", "D": "day"}
EXAMPLES = "'2 years', '18 months', '6 weeks', '90 days' or 'P2Y'"


@dataclass(frozen=True, order=True)
class Duration:
    days: int
    amount: int
    unit: str

    @property
    def months(self) -> int | None:
        """Whole months for year and month units (exact), None for weeks and days."""
        return {"year": 12, "month": 1}.get(self.unit, 0) * self.amount or None

    def longer_than(self, other: Duration) -> bool:
        """Exact in months or in days; between the two, by the upper bound in days."""
        if self.months is not None and other.months is not None:
            return self.months > other.months
        return self.days > other.days

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"


def parse_duration(text: str) -> Duration:
    """Parse a concrete duration; raise ValueError saying what to write instead."""
    match = _ISO.match(text.strip())
    if match:
        amount, unit = int(match[1]), _ISO_UNITS[match[2]]
    else:
        match = _PLAIN.match(text)
        unit_word = match[2].lower() if match else ""
        if not match or unit_word not in _UNITS:
            raise ValueError(f"{text!r} is not a concrete duration; write e.g. {EXAMPLES}")
        amount, unit = int(match[1]), _UNITS[unit_word]
    if amount <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return Duration(days=amount * UNIT_DAYS[unit], amount=amount, unit=unit)
