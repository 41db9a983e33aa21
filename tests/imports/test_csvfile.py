"""Reading lists as spreadsheet programs write them: any table written with ';' or ',',
with or without a BOM, in UTF-8 or Windows-1252, reads back as it was written."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.errors import InvalidInput
from ehrlich.imports.csvfile import read_table

NAME = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZäöüß0123456789 -_."),
               min_size=1, max_size=12).map(str.strip).filter(bool)
# Windows-1252 letters whose bytes can never be read as UTF-8 (no continuation bytes),
# so a file holding any of them is told apart from UTF-8.
CP1252_CELL = st.text(st.sampled_from("abcXYZ019 ;,\"'=+-@\r\n\täöüÄÖÜßéèàç"), max_size=12)
UTF8_CELL = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                    max_size=12)


@st.composite
def tables(draw: st.DrawFn, cell: st.SearchStrategy[str]) -> tuple[list[str], list[list[str]]]:
    header = draw(st.lists(NAME, min_size=2, max_size=6, unique=True))
    row = st.lists(cell, min_size=len(header), max_size=len(header)).filter(
        lambda cells: any(c.strip() for c in cells))
    return header, draw(st.lists(row, max_size=8))


def _write(header: list[str], rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(tables(UTF8_CELL), st.sampled_from(";,"), st.booleans())
def test_utf8_tables_round_trip(table: tuple[list[str], list[list[str]]], delimiter: str,
                                bom: bool) -> None:
    header, rows = table
    raw = (b"\xef\xbb\xbf" if bom else b"") + _write(header, rows, delimiter).encode()
    read = read_table(raw)
    assert (read.encoding, read.delimiter, read.had_bom) == ("utf-8", delimiter, bom)
    assert read.header == header
    assert [list(cells) for _, cells in read.rows] == rows


@settings(max_examples=150, deadline=None)
@given(tables(CP1252_CELL), st.sampled_from(";,"))
def test_excel_tables_round_trip(table: tuple[list[str], list[list[str]]],
                                 delimiter: str) -> None:
    header, rows = table
    text = _write(header, rows, delimiter)
    read = read_table(text.encode("cp1252"))
    ascii_only = text.isascii()
    assert read.encoding == ("utf-8" if ascii_only else "cp1252")
    assert read.delimiter == delimiter
    assert read.header == header
    assert [list(cells) for _, cells in read.rows] == rows


def test_row_numbers_count_as_a_spreadsheet_does() -> None:
    raw = b'E-Mail;Note\r\na@example.org;"two\r\nlines"\r\n\r\nb@example.org;x\r\n'
    assert [n for n, _ in read_table(raw).rows] == [2, 4]


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "is empty"),
    (b"a;a\r\n1;2\r\n", "two columns have the same name"),
    (b"\x81\x8d\x8f", "neither UTF-8 nor Windows-1252"),
])
def test_unreadable_files_are_named(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        read_table(raw)
    assert caught.value.problems[0].field == "file"
