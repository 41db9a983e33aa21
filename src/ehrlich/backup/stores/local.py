"""A directory on this machine (or a mounted one)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ehrlich.backup.interfaces import TEMP_PREFIX
from ehrlich.backup.stores.stale import pid_is_gone


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory.absolute()
        self.url = str(self.directory)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.directory / f"{TEMP_PREFIX}{os.getpid()}-{name}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb", buffering=1024 * 1024) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, self.directory / name)
            _fsync_dir(self.directory)
        finally:
            temp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        with (self.directory / name).open("rb", buffering=1024 * 1024) as fh:
            yield fh

    def size(self, name: str) -> int | None:
        try:
            return (self.directory / name).stat().st_size
        except FileNotFoundError:
            return None

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir()
                      if p.is_file() and not p.name.startswith(TEMP_PREFIX))

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)

    def close(self) -> None:
        return None

    def discard_partials(self, *, now: datetime) -> int:
        """Temporary files of processes on this host that have ended."""
        if not self.directory.is_dir():
            return 0
        stale = [p for p in self.directory.iterdir()
                 if p.name.startswith(TEMP_PREFIX) and pid_is_gone(p.name)]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)
