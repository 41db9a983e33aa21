"""The mapping step preselects the columns whose names say what they hold, as English and
German spreadsheets name them; nothing else is guessed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.imports.schemas import ColumnMapping


@pytest.mark.parametrize(("header", "email", "name", "phone"), [
    (["E-Mail", "Vorname", "Telefon", "Quelle"], "E-Mail", "Vorname", "Telefon"),
    (["E-Mail-Adresse", "Vollständiger Name", "Handynummer"], "E-Mail-Adresse",
     "Vollständiger Name", "Handynummer"),
    (["Email Address", "First name", "Mobile phone"], "Email Address", "First name",
     "Mobile phone"),
    (["Vorname", "Name", "EMAIL"], "EMAIL", "Name", None),  # the full name before a part
    (["Kundennummer", "Straße", "PLZ"], None, None, None),
])
def test_telling_column_names_are_preselected(header: list[str], email: str | None,
                                              name: str | None, phone: str | None) -> None:
    guessed = ColumnMapping.guessed(header)
    assert (guessed.email, guessed.name, guessed.phone) == (email, name, phone)
    assert guessed.attributes == []


@given(st.lists(st.text(max_size=30) | st.sampled_from(["E-Mail\x07", "Name\n", "Tel\u202e"]),
                max_size=12))
def test_a_guess_only_names_columns_of_the_file_that_the_mapping_accepts(
        header: list[str]) -> None:
    guessed = ColumnMapping.guessed(header)  # never refuses: it offers, the person chooses
    for column in (guessed.email, guessed.name, guessed.phone):
        assert column is None or column in header
    ColumnMapping.model_validate(guessed.model_dump())
