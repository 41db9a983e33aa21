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
from typing import Any, BinaryIO, cast

import pyrage
import zstandard
from pyrage import x25519

from ehrlich.backup.errors import BackupDamaged, WrongIdentity

BLOCK = 512
ZSTD_LEVEL = 3
_MIB = 1024 * 1024


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
    """Hashes everything read through it; `drain` reads the rest."""

    def __init__(self, source: BinaryIO) -> None:
        self._source, self.size, self._hash = source, 0, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(memoryview(buffer)))
        n = len(data)
        memoryview(buffer).cast("B")[:n] = data
        self._hash.update(data)
        self.size += n
        return n

    def drain(self) -> None:
        while self._source_read():
            pass

    def _source_read(self) -> bool:
        data = self._source.read(_MIB)
        self._hash.update(data)
        self.size += len(data)
        return bool(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@dataclass(frozen=True)
class Written:
    size: int
    sha256: str


def pack(out: BinaryIO, members: Sequence[tuple[str, bytes | memoryview]],
         recipients: Sequence[x25519.Recipient], *, mtime: float) -> Written:
    """Stream tar -> zstd -> age into `out`; returns the size and hash written."""
    source = _Chain(tar_pieces(members, mtime=mtime))
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1)
    sink = _HashingWriter(out)
    with compressor.stream_reader(cast(BinaryIO, source), read_size=_MIB) as compressed:
        pyrage.encrypt_io(compressed, sink, list(recipients))
    return Written(sink.size, sink.hexdigest())


class _Collect(io.RawIOBase):
    """Decompresses what it is given into one growing buffer."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self._zstd = zstandard.ZstdDecompressor().decompressobj()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.buffer.write(self._zstd.decompress(data))
        return memoryview(data).nbytes


def unpack(source: HashingReader, identity: x25519.Identity, *, label: str
           ) -> dict[str, memoryview]:
    """Decrypt, decompress and split the tar; members keep their order."""
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
    except zstandard.ZstdError as exc:
        raise BackupDamaged(f"{label} does not decompress: {exc}") from exc
    view = collect.buffer.getbuffer()
    members: dict[str, memoryview] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(view), mode="r:") as tar:
            for info in tar:
                if not info.isfile():
                    raise BackupDamaged(f"{label}: unexpected tar entry {info.name!r}")
                members[info.name] = view[info.offset_data:info.offset_data + info.size]
    except tarfile.TarError as exc:
        raise BackupDamaged(f"{label}: the tar inside is damaged ({exc})") from exc
    return members
