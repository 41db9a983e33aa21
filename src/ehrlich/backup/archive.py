"""The archive format: age( zstd( tar ) ), streamed, never plaintext on disk.

`pack` builds the tar in memory views (the database snapshot is already in
memory), compresses it as it is read and encrypts it straight into the
destination, hashing what is written. `unpack` reverses it with the hash of
what was read. The standard tools do the same:

    age -d -i IDENTITY ID.tar.zst.age | zstd -d | tar x    # database.* + manifest.json
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyrage
import zstandard
from pyrage import x25519

from ehrlich.backup.errors import BackupDamaged, WrongIdentity

BLOCK = 512
ZSTD_LEVEL = 3
_MIB = 1024 * 1024
_STEP = 4 * _MIB  # tar bytes compressed per step
_TAR_SLACK = 1 * _MIB  # tar headers and padding beyond the members' sizes


class _Chain(io.RawIOBase):
    """Reads a sequence of buffers as one stream, without copying them first."""

    def __init__(self, pieces: Sequence[bytes | memoryview]) -> None:
        self._pieces = [memoryview(p).cast("B") for p in pieces if len(p)]
        self._index = self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(target) and self._index < len(self._pieces):
            piece = self._pieces[self._index]
            n = min(len(target) - filled, len(piece) - self._offset)
            target[filled:filled + n] = piece[self._offset:self._offset + n]
            filled += n
            self._offset += n
            if self._offset == len(piece):
                self._index, self._offset = self._index + 1, 0
        return filled

    def next_block(self, limit: int) -> memoryview | None:
        """Up to `limit` bytes of the stream as a view (no copy); None at the end."""
        if self._index >= len(self._pieces):
            return None
        piece = self._pieces[self._index]
        block = piece[self._offset:self._offset + limit]
        self._offset += len(block)
        if self._offset == len(piece):
            self._index, self._offset = self._index + 1, 0
        return block


class _Compressing(io.RawIOBase):
    """What age reads: the tar compressed in large steps, served in the small reads age makes."""

    def __init__(self, source: _Chain) -> None:
        self._source = source
        # threads=-1: zstd compresses on every core while age encrypts what is done.
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1).compressobj()
        self._out, self._pos, self._done = memoryview(b""), 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._out):
            if self._done:
                return 0
            block = self._source.next_block(_STEP)
            if block is None:
                self._out, self._done = memoryview(self._zstd.flush()), True
            else:
                self._out = memoryview(self._zstd.compress(block))
            self._pos = 0
        target = memoryview(buffer).cast("B")
        n = min(len(target), len(self._out) - self._pos)
        target[:n] = self._out[self._pos:self._pos + n]
        self._pos += n
        return n


def tar_pieces(members: Sequence[tuple[str, bytes | memoryview]], *, mtime: float
               ) -> list[bytes | memoryview]:
    """A POSIX (pax) tar stream of the members, in order, as buffers."""
    pieces: list[bytes | memoryview] = []
    for name, data in members:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), int(mtime), 0o600
        pieces.append(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        pieces.append(data)
        pieces.append(bytes(-len(data) % BLOCK))
    pieces.append(bytes(2 * BLOCK))
    return pieces


class _HashingWriter(io.RawIOBase):
    def __init__(self, out: BinaryIO) -> None:
        self._out, self.size, self._hash = out, 0, hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._hash.update(data)
        self._out.write(data)
        n = memoryview(data).nbytes
        self.size += n
        return n

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class HashingReader(io.RawIOBase):
    """Reads the source in large blocks, hashing each once; serves age's small reads."""

    def __init__(self, source: BinaryIO) -> None:
        self._source, self.size, self._hash = source, 0, hashlib.sha256()
        self._block, self._pos = memoryview(b""), 0

    def readable(self) -> bool:
        return True

    def _next_block(self) -> bool:
        data = self._source.read(_MIB)
        self._hash.update(data)
        self.size += len(data)
        self._block, self._pos = memoryview(data), 0
        return bool(data)

    def readinto(self, buffer: Any) -> int:
        if self._pos >= len(self._block) and not self._next_block():
            return 0
        target = memoryview(buffer).cast("B")
        n = min(len(target), len(self._block) - self._pos)
        target[:n] = self._block[self._pos:self._pos + n]
        self._pos += n
        return n

    def drain(self) -> None:
        """Read (and hash) the rest, e.g. after decryption stopped early."""
        while self._next_block():
            pass

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@dataclass(frozen=True)
class Written:
    size: int
    sha256: str


def pack(out: BinaryIO, members: Sequence[tuple[str, bytes | memoryview]],
         recipients: Sequence[x25519.Recipient], *, mtime: float) -> Written:
    """Stream tar -> zstd -> age into `out`; returns the size and hash written."""
    sink = _HashingWriter(out)
    pyrage.encrypt_io(_Compressing(_Chain(tar_pieces(members, mtime=mtime))), sink,
                      list(recipients))
    return Written(sink.size, sink.hexdigest())


class _Collect(io.RawIOBase):
    """Keeps what age decrypts (still compressed) for one decompression at the end."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(self.parts[-1])


def unpack(source: HashingReader, identity: x25519.Identity, *, label: str,
           expected_size: int) -> dict[str, memoryview]:
    """Decrypt, decompress and split the tar; members keep their order.

    `expected_size` (from the manifest) bounds the decompressed tar, so a
    damaged or hostile archive cannot make it grow without limit.
    """
    collect = _Collect()
    try:
        pyrage.decrypt_io(source, collect, [identity])
    except (pyrage.DecryptError, OSError) as exc:  # payload failures surface as OSError
        source.drain()
        if "no matching keys" in str(exc).lower():
            raise WrongIdentity(f"{label}: the identity given does not open it "
                                "(it was encrypted to other recipients)") from exc
        raise BackupDamaged(f"{label} cannot be decrypted: {exc} "
                            "(the archive is corrupt or truncated)") from exc
    compressed = b"".join(collect.parts)
    collect.parts.clear()
    try:
        tar_bytes = zstandard.ZstdDecompressor().decompress(
            compressed, max_output_size=expected_size + _TAR_SLACK)
    except zstandard.ZstdError as exc:
        raise BackupDamaged(f"{label} does not decompress: {exc}") from exc
    del compressed
    buffer = io.BytesIO(tar_bytes)
    spans: dict[str, tuple[int, int]] = {}
    try:
        with tarfile.open(fileobj=buffer, mode="r:") as tar:
            for info in tar:
                if not info.isfile():
                    raise BackupDamaged(f"{label}: unexpected tar entry {info.name!r}")
                spans[info.name] = (info.offset_data, info.offset_data + info.size)
    except tarfile.TarError as exc:
        raise BackupDamaged(f"{label}: the tar inside is damaged ({exc})") from exc
    view = memoryview(tar_bytes)  # members are views into it: no copies
    if any(end > len(view) for _, end in spans.values()):
        raise BackupDamaged(f"{label}: the tar inside is cut short")
    return {name: view[start:end] for name, (start, end) in spans.items()}
