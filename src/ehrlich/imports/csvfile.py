"""Reading a contact list as a spreadsheet program writes it.

Encodings: UTF-8 with or without a byte-order mark (`utf-8-sig` strips it);
a file that is not valid UTF-8 is read as Windows-1252, the encoding Excel
uses for "CSV" on Western European systems, and the preview says so. The
delimiter, `;` (Excel with a German locale) or `,`, is found with
`csv.Sniffer` on the first lines; when the sniffer cannot decide, the one that
occurs more often in the header line wins.

Cells are data: a cell starting with `=`, `+`, `-` or `@` is kept as the text
it is and never evaluated (nothing here evaluates anything, and the report of
rejected rows names row numbers, not cell values).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Literal

from ehrlich.errors import InvalidInput

Encoding = Literal["utf-8", "cp1252"]
DELIMITERS = ";,"
SNIFF_CHARS = 64 * 1024
MAX_COLUMNS = 200
MAX_CELL_CHARS = 20_000


@dataclass(frozen=True)
class Table:
    """A decoded file: its header and its data rows with their row numbers as a
    spreadsheet counts them (the header is row 1; a cell may span lines)."""

    encoding: Encoding
    delimiter: str
    had_bom: bool
    header: list[str]
    rows: list[tuple[int, tuple[str, ...]]]
    """Each row's cells as a tuple: a tuple of strings leaves the cyclic garbage
    collector's lists after the first collection it survives, so a 100,000-row file is
    not walked again by every full collection while it is imported."""


def decode(raw: bytes) -> tuple[str, Encoding, bool]:
    """The text, the encoding it was read with, and whether it started with a BOM."""
    had_bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8-sig"), "utf-8", had_bom
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252", False
    except UnicodeDecodeError:  # five bytes cp1252 leaves undefined
        raise InvalidInput.one("file", "is neither UTF-8 nor Windows-1252 (Excel) text; "
                               "save it as 'CSV UTF-8'") from None


def _delimiter(text: str) -> str:
    sample = text[:SNIFF_CHARS]
    first = sample.split("\n", 1)[0]
    if (";" in first) != ("," in first):  # column names rarely hold either: trust them
        return ";" if ";" in first else ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ";" if first.count(";") > first.count(",") else ","


def read_table(raw: bytes) -> Table:
    """Decode and split a CSV file; `InvalidInput` names what is wrong with it."""
    text, encoding, had_bom = decode(raw)
    if not text.strip():
        raise InvalidInput.one("file", "is empty")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, doublequote=True,
                        strict=False)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise InvalidInput.one("file", f"is not readable as CSV ({exc})") from None
    header = [cell.strip() for cell in records[0]]
    if len(header) > MAX_COLUMNS:
        raise InvalidInput.one("file", f"has {len(header)} columns; at most {MAX_COLUMNS}")
    if not any(header):
        raise InvalidInput.one("file", "the first line must name the columns")
    names = [h for h in header if h]
    if len(set(names)) != len(names):
        raise InvalidInput.one("file", "two columns have the same name in the first line")
    rows = [(number, tuple(record)) for number, record in enumerate(records[1:], start=2)
            # blank lines are no rows (Excel adds them at the end)
            if "".join(record).strip()]
    return Table(encoding, delimiter, had_bom, header, rows)
