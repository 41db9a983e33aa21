"""The export file formats, for any text: NDJSON lines are what json.dumps writes, CSV cells
read back as written (defused where a spreadsheet would run them), and the digest and row
count are those of the bytes handed out."""

from __future__ import annotations

import csv
import hashlib
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from ehrlich.sharing.files import Tracked, encode
from ehrlich.spreadsheets import defused

COLUMNS = ("id", "email", "unsubscribe_url")
ROWS = st.lists(st.lists(st.tuples(st.text(), st.text(), st.text()), max_size=4), max_size=4)


def _bytes(batches: list[list[tuple[str, ...]]], fmt: str) -> tuple[bytes, Tracked, list]:
    done: list[tuple[int, str]] = []
    tracked = Tracked(encode(COLUMNS, iter(batches), fmt), lambda n, d: done.append((n, d)))
    return b"".join(tracked), tracked, done


@given(batches=ROWS)
def test_ndjson_lines_are_json_dumps(batches: list[list[tuple[str, ...]]]) -> None:
    data, tracked, done = _bytes(batches, "ndjson")
    rows = [row for batch in batches for row in batch]
    expected = "".join(json.dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=False)
                       + "\n" for row in rows)
    assert data == expected.encode("utf-8")
    # NDJSON lines end at "\n" only (str.splitlines would also split at U+0085 or U+2028)
    assert [json.loads(line) for line in data.decode().split("\n")[:-1]] == [
        dict(zip(COLUMNS, row, strict=True)) for row in rows]
    assert done == [(len(rows), "sha256:" + hashlib.sha256(data).hexdigest())]
    assert tracked.rows == len(rows)


@given(batches=ROWS)
def test_csv_reads_back_defused(batches: list[list[tuple[str, ...]]]) -> None:
    data, _, done = _bytes(batches, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    rows = [row for batch in batches for row in batch]
    assert read[0] == list(COLUMNS)
    assert read[1:] == [[defused(cell) for cell in row] for row in rows]
    for row in read[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell[1:].isdigit()
    assert done[0][0] == len(rows)
