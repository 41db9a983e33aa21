"""CSV cells that a spreadsheet would run as formulas are defused; nothing else changes."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from ehrlich.spreadsheets import FORMULA_START, csv_text, defused, undefused


@given(st.text())
def test_no_cell_starts_a_formula_and_the_value_is_recoverable(value: str) -> None:
    cell = defused(value)
    if cell.startswith(FORMULA_START):
        assert cell[0] == "+"
        assert cell[1:].isdigit()
        assert cell[1:].isascii()
    assert cell == value or cell == "'" + value
    assert undefused(cell) == value


@given(st.lists(st.lists(st.text(), min_size=2, max_size=2), max_size=5))
def test_csv_round_trips_to_the_defused_cells(rows: list[list[str]]) -> None:
    parsed = list(csv.reader(io.StringIO(csv_text(rows), newline="")))
    assert parsed == [[defused(c) for c in row] for row in rows]


def test_known_attack_cells() -> None:
    assert defused("=HYPERLINK(\"http://evil\")") == "'=HYPERLINK(\"http://evil\")"
    assert defused("@SUM(1+1)*cmd|' /C calc'!A0") == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert defused("-2+3@example.org") == "'-2+3@example.org"
    assert defused("+4930123456") == "+4930123456"
    assert defused("+49 30 123") == "'+49 30 123"
    assert defused("ada@example.org") == "ada@example.org"


def test_a_value_that_looks_defused_already_keeps_its_own_quote() -> None:
    """Else a program stripping the defusing quote would take the value's own."""
    assert defused("'=1+1") == "''=1+1"
    assert defused("'\t") == "''\t"
    assert undefused(defused("'=1+1")) == "'=1+1"
    assert defused("'quoted'") == "'quoted'"
    assert undefused("'quoted'") == "'quoted'"
