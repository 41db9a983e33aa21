"""The bytes of an export file: CSV for spreadsheets or NDJSON, streamed batch by batch.

CSV starts with a UTF-8 byte-order mark (so spreadsheet programs read the
umlauts right), uses CRLF line ends (RFC 4180) and defuses every cell that a
spreadsheet would run as a formula (`ehrlich.spreadsheets`). NDJSON is one JSON
object per line. `Tracked` counts the rows and hashes the bytes as they go out,
and tells the copies register the row count and SHA-256 digest once the last
byte left; a file abandoned half-way keeps its record without them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import encode_basestring as quoted

from ehrlich.spreadsheets import BOM, csv_text

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson",
               "json": "application/json"}


def encode(columns: Sequence[str], batches: Iterable[list[tuple[str, ...]]], fmt: str
           ) -> Iterator[tuple[str, int]]:
    """(text, rows in it) per batch, the CSV header (with its BOM) first."""
    if fmt == "csv":
        yield BOM + csv_text([tuple(columns)]), 0
        for batch in batches:
            yield csv_text(batch), len(batch)
        return
    # One format string per file, each value quoted by the JSON encoder's own string
    # function: the same lines as json.dumps(dict(zip(columns, row)), ensure_ascii=False).
    line = "{" + ", ".join(json.dumps(c) + ": %s" for c in columns) + "}\n"
    for batch in batches:
        yield "".join([line % tuple(map(quoted, row)) for row in batch]), len(batch)


class Tracked:
    """The file's bytes; when the last one went out, `done(rows, digest)` is called."""

    def __init__(self, parts: Iterator[tuple[str, int]],
                 done: Callable[[int, str], None]) -> None:
        self._parts = parts
        self._done = done
        self.rows = 0
        self._hash = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for text, rows in self._parts:
            data = text.encode("utf-8")
            self._hash.update(data)
            self.rows += rows
            if data:
                yield data
        self._done(self.rows, self.digest)

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()
