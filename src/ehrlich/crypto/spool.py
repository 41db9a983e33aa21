"""A temporary file sealed under a key that only this process holds.

For data that must wait on disk without ever lying there in plaintext (a
`pg_dump` stream before it is packed; a dump read from an archive before it
is restored). Each record: 4-byte big-endian ciphertext length (top bit: last record), then
AES-256-GCM ciphertext+tag of up to 1 MiB; the nonce is the record number and
the associated data the record number and a last-record flag, so records
cannot be reordered, dropped or cut off unnoticed. The key is random per
spool and lives only in memory: after the process ends the file is noise.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ehrlich.crypto._primitives import Aead, random_key
from ehrlich.errors import IntegrityFailure

RECORD = 1024 * 1024
_LENGTH = struct.Struct(">I")
_LAST = 1 << 31


def _nonce_and_ad(index: int, last: bool) -> tuple[bytes, bytes]:
    return index.to_bytes(12, "big"), index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")


class SealedSpool:
    """Write once (`writer` or `fill`), then read back any number of times with `reader`."""

    def __init__(self, path: Path) -> None:
        self.path, self.size = path, 0
        self._aead = Aead(random_key())

    @contextlib.contextmanager
    def writer(self) -> Iterator[BinaryIO]:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb", buffering=RECORD) as out:
            sealing = _SpoolWriter(out, self._aead)
            yield sealing  # type: ignore[misc]
            sealing.finish()
            self.size = sealing.size

    def fill(self, source: BinaryIO) -> int:
        """Seal everything `source` yields until its end; returns the plaintext size."""
        with self.writer() as out:
            while chunk := source.read(RECORD):
                out.write(chunk)
        return self.size

    @contextlib.contextmanager
    def reader(self) -> Iterator[BinaryIO]:
        with self.path.open("rb", buffering=RECORD) as fh:
            yield _SpoolReader(fh, self._aead)  # type: ignore[misc]

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class _SpoolWriter(io.RawIOBase):
    def __init__(self, out: BinaryIO, aead: Aead) -> None:
        self._out, self._aead = out, aead
        self._pending = bytearray()
        self._index = self.size = 0

    def writable(self) -> bool:
        return True

    def _seal(self, data: bytes, *, last: bool) -> None:
        nonce, ad = _nonce_and_ad(self._index, last)
        sealed = self._aead.encrypt(nonce, data, ad)
        self._out.write(_LENGTH.pack(len(sealed) | (_LAST if last else 0)))
        self._out.write(sealed)
        self._index += 1
        self.size += len(data)

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        self._pending += data
        while len(self._pending) > RECORD:  # keep a remainder: the last record comes at finish
            self._seal(bytes(self._pending[:RECORD]), last=False)
            del self._pending[:RECORD]
        return n

    def finish(self) -> None:
        self._seal(bytes(self._pending), last=True)
        self._pending.clear()


class _SpoolReader(io.RawIOBase):
    def __init__(self, source: BinaryIO, aead: Aead) -> None:
        self._source, self._aead = source, aead
        self._index, self._done = 0, False
        self._block, self._pos = b"", 0

    def readable(self) -> bool:
        return True

    def _next(self) -> bool:
        if self._done:
            return False
        head = self._source.read(_LENGTH.size)
        if len(head) != _LENGTH.size:
            raise IntegrityFailure("the sealed spool is cut short")
        word = _LENGTH.unpack(head)[0]
        last, sealed = bool(word & _LAST), self._source.read(word & ~_LAST)
        nonce, ad = _nonce_and_ad(self._index, last)
        self._block, self._pos = self._aead.decrypt(nonce, sealed, ad), 0
        self._index, self._done = self._index + 1, last
        return True

    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._block):
            if not self._next():
                return 0
        target = memoryview(buffer).cast("B")
        n = min(len(target), len(self._block) - self._pos)
        target[:n] = self._block[self._pos:self._pos + n]
        self._pos += n
        return n
