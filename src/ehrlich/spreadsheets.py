"""CSV meant for spreadsheets: cells a spreadsheet would run as a formula are defused.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return can be
taken for a formula ("CSV injection", OWASP). Such a cell gets a leading single
quote, which spreadsheets show as text and programs can strip. A phone number
in international format (`+` and digits only) is left as it is: it is no
formula, and the export's readers need it unchanged.

A value that itself starts with single quotes followed by one of those characters
gets one more quote too, so one rule gives every value back: where a cell starts
with single quotes followed by one of those characters, drop its first quote
(`undefused`).

A CSV file starts with a UTF-8 byte-order mark (`BOM`): without it Excel reads the
file in the machine's legacy code page and shows "Müller" as "MÃ¼ller".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

BOM = "\ufeff"  # first in every CSV file made for spreadsheets
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+[0-9]{1,15}")
# A defusing quote or a value's own: quotes, then a formula start.
_QUOTED = re.compile("'+[" + re.escape("".join(FORMULA_START)) + "]")


def defused(value: str) -> str:
    if (value.startswith(FORMULA_START) and not _E164.fullmatch(value)) or _QUOTED.match(value):
        return "'" + value
    return value


def undefused(cell: str) -> str:
    """The value a `defused` cell was made from (for a program reading the CSV)."""
    return cell[1:] if _QUOTED.match(cell) else cell


def csv_text(rows: Iterable[Sequence[str]], *, lineterminator: str = "\r\n") -> str:
    """The rows as CSV, every cell defused."""
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows(
        [defused(cell) for cell in row] for row in rows)
    return out.getvalue()
