"""Where archives go: a `BackupStore` per destination kind, chosen by URL."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import BinaryIO, Protocol

# Files still being written carry this prefix; listings skip them.
TEMP_PREFIX = ".partial-"


class BackupStore(Protocol):
    """A flat namespace of named files.

    `writer` makes a file visible under its name only when the block exits
    cleanly (temporary name + rename, or an S3 multipart upload completed at
    the end); an exception or a killed process leaves no file under the name.
    """

    url: str
    """Where it is, for people: never carries a password."""

    def writer(self, name: str) -> AbstractContextManager[BinaryIO]: ...

    def reader(self, name: str) -> AbstractContextManager[BinaryIO]: ...

    def size(self, name: str) -> int | None:
        """The size in bytes, or None when there is no such file."""
        ...

    def names(self) -> list[str]:
        """Complete files only; temporary names are left out."""
        ...

    def delete(self, name: str) -> None: ...

    def discard_partials(self, *, now: datetime) -> int:
        """Remove what killed runs left under temporary names; returns how many."""
        ...

    def close(self) -> None: ...
