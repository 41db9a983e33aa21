"""Properties of the queue's calendar and of the report's CSV, for any input."""

from __future__ import annotations

import calendar
import csv
import io
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ehrlich.rights.queue import add_months
from ehrlich.rights.report import report_csv
from ehrlich.rights.schemas import AccessReport, ConsentEntry
from ehrlich.spreadsheets import FORMULA_START, undefused

MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))


@given(MOMENTS, st.integers(min_value=1, max_value=3))
def test_a_month_later_is_the_same_day_or_the_months_last(moment: datetime, months: int
                                                           ) -> None:
    later = add_months(moment, months)
    assert later > moment
    assert (later.year * 12 + later.month) - (moment.year * 12 + moment.month) == months
    assert later.time() == moment.time()
    # the same day, or the last day of a shorter month (31 January -> 28/29 February)
    assert later.day == min(moment.day, calendar.monthrange(later.year, later.month)[1])
    assert add_months(moment, months) <= add_months(moment, months + 1)


CELL = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@given(name=CELL, email=CELL, attributes=st.dictionaries(CELL, CELL, max_size=4),
       text_shown=st.none() | CELL)
def test_no_csv_cell_starts_like_a_formula_and_every_value_survives(
        name: str, email: str, attributes: dict[str, str], text_shown: str | None) -> None:
    at = datetime(2026, 11, 29, 12, tzinfo=UTC)
    made = AccessReport(
        subject_id="s", made_at=at, email=email, name=name, phone=None, attributes=attributes,
        source="api", obtained_at=at, created_at=at, updated_at=at,
        consents=[ConsentEntry(at=at, purpose="newsletter", channel="email",
                               action="requested", legal_basis="consent", method="form",
                               notice_version=1, notice_hash=None, language="en",
                               text_shown=text_shown, text_hash=None, form=None,
                               event_hash="00")],
        purposes=[], suppressed_for=[], controller="c", controller_contact="c",
        notice_version=1)
    rows = list(csv.reader(io.StringIO(report_csv(made), newline="")))
    cells = [c for row in rows for c in row]
    # only an international phone number (+ and digits) may start with a formula character
    assert not [c for c in cells if c.startswith(FORMULA_START)
                and not (c.startswith("+") and c[1:].isdigit())]
    undone = {undefused(c) for c in cells}
    for value in (name, email, *attributes.values(), *([text_shown] if text_shown else [])):
        assert value in undone
