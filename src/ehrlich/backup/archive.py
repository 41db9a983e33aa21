"""The archive format: age( zstd( tar ) ), streamed both ways in bounded memory.

`pack` reads the dump in 4 MiB steps into a tar stream (the manifest, which
holds the dump's SHA-256, is the last member), compresses it and encrypts it
straight into the destination, hashing what is written. `unpack` decrypts
in a thread into a small bounded queue while zstd and tar read from it, so
an archive of any size passes through a few MiB of memory. The standard
tools do the same:

    age -d -i IDENTITY ID.tar.zst.age | zstd -d | tar x
    # database.*, erasure-ledger.jsonl, manifest.json
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from ehrlich.backup.errors import BackupDamaged, WrongIdentity

# age, zstd and tar are imported where an archive is written or read: a web process that
# never makes a backup does not load them (about 1.5 MiB resident; bench.serve_memory).
if TYPE_CHECKING:
    from pyrage import x25519

BLOCK = 512
ZSTD_LEVEL = 3
_MIB = 1024 * 1024
_STEP = 4 * _MIB  # bytes read, compressed or handed on per step
_QUEUE = 4  # steps of decrypted data in flight between age and zstd
MANIFEST_LIMIT = 16 * _MIB


def _header(name: str, size: int, mtime: float) -> bytes:
    import tarfile

    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def tar_blocks(member: str, size: int, dump: BinaryIO, manifest: Callable[[str], bytes],
               *, mtime: float, extra: Sequence[tuple[str, int, BinaryIO]] = ()
               ) -> Iterator[bytes]:
    """A POSIX (pax) tar of the dump, then each `extra` member (the erasure ledger's
    copy), then `manifest(sha256 of the dump)`, in steps."""
    digest = hashlib.sha256()
    yield from _member_blocks(member, size, dump, digest, mtime)
    for name, extra_size, source in extra:
        yield from _member_blocks(name, extra_size, source, hashlib.sha256(), mtime)
    data = manifest(digest.hexdigest())
    yield _header(MANIFEST_MEMBER, len(data), mtime) + data + bytes(-len(data) % BLOCK)
    yield bytes(2 * BLOCK)


def _member_blocks(member: str, size: int, source: BinaryIO, digest: Any, mtime: float
                   ) -> Iterator[bytes]:
    yield _header(member, size, mtime)
    left = size
    while left:
        chunk = source.read(min(_STEP, left))
        if not chunk:
            raise BackupDamaged(f"{member} ended {left} bytes before its size")
        digest.update(chunk)
        left -= len(chunk)
        yield chunk
    yield bytes(-size % BLOCK)


MANIFEST_MEMBER = "manifest.json"


class _Compressing(io.RawIOBase):
    """What age reads: the tar compressed in large steps, served in the small reads age makes."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        import zstandard

        self._blocks = blocks
        # threads=-1: zstd compresses on every core while age encrypts what is done.
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1).compressobj()
        self._flush_block = zstandard.COMPRESSOBJ_FLUSH_BLOCK
        self._out, self._pos, self._done = memoryview(b""), 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._out):
            if self._done:
                return 0
            block = next(self._blocks, None)
            if block is None:
                self._out, self._done = memoryview(self._zstd.flush()), True
            else:
                # Flushing each step bounds zstd's buffers: with worker threads and no
                # flush, it holds input until the end (210 MiB RSS for 400 MiB of input).
                self._out = memoryview(self._zstd.compress(block) + self._zstd.flush(
                    self._flush_block))
            self._pos = 0
        target = memoryview(buffer).cast("B")
        n = min(len(target), len(self._out) - self._pos)
        target[:n] = self._out[self._pos:self._pos + n]
        self._pos += n
        return n


class _HashingWriter(io.RawIOBase):
    """Hashes what age writes and hands it to every destination at once."""

    def __init__(self, outs: Sequence[BinaryIO]) -> None:
        self._outs, self.size, self._hash = outs, 0, hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._hash.update(data)
        for out in self._outs:
            out.write(data)
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


def pack(outs: Sequence[BinaryIO], blocks: Iterator[bytes],
         recipients: Sequence[x25519.Recipient]) -> Written:
    """Stream tar blocks -> zstd -> age into every `out`; returns the size and hash written."""
    import pyrage

    sink = _HashingWriter(outs)
    pyrage.encrypt_io(_Compressing(blocks), sink, list(recipients))
    return Written(sink.size, sink.hexdigest())


class _Cancelled(OSError):
    pass


class _Pipe(io.RawIOBase):
    """age writes into it (in a thread), zstd reads from it; at most _QUEUE steps held."""

    def __init__(self) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(_QUEUE)
        self._pending = bytearray()
        self._block, self._pos = b"", 0
        self.cancelled = threading.Event()

    # -- age's side ----------------------------------------------------------------
    def writable(self) -> bool:
        return True

    def _put(self, item: bytes | None) -> None:
        while not self.cancelled.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=0.1)
                return
        raise _Cancelled("the reader stopped")

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        self._pending += data
        if len(self._pending) >= _STEP:
            self._put(bytes(self._pending))
            self._pending.clear()
        return n

    def finish(self) -> None:
        with contextlib.suppress(_Cancelled):
            if self._pending:
                self._put(bytes(self._pending))
            self._put(None)

    # -- zstd's side ---------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._block):
            item = self._queue.get()
            if item is None:
                self._queue.put(None)  # stays at the end for later reads
                return 0
            self._block, self._pos = item, 0
        target = memoryview(buffer).cast("B")
        n = min(len(target), len(self._block) - self._pos)
        target[:n] = self._block[self._pos:self._pos + n]
        self._pos += n
        return n


@dataclass(frozen=True)
class Unpacked:
    names: list[str]
    """Members in archive order."""
    hashes: dict[str, tuple[int, str]]
    """Size and SHA-256 of each member as read."""
    manifest: bytes


def _decrypt_error(exc: Exception, label: str) -> Exception:
    if "no matching keys" in str(exc).lower():
        return WrongIdentity(f"{label}: the identity given does not open it "
                             "(it was encrypted to other recipients)")
    return BackupDamaged(f"{label} cannot be decrypted: {exc} "
                         "(the archive is corrupt or truncated)")


def unpack(source: HashingReader, identity: x25519.Identity, *, label: str,
           expected_size: int, sink: Callable[[str], BinaryIO]) -> Unpacked:
    """Decrypt, decompress and split the tar; each dump member goes to `sink(name)`.

    `expected_size` (from the manifest) bounds the tar, so a damaged or
    hostile archive cannot make a member grow without limit.
    """
    import tarfile

    import pyrage
    import zstandard

    pipe = _Pipe()
    failure: list[Exception] = []

    def decrypt() -> None:
        try:
            pyrage.decrypt_io(source, pipe, [identity])
        except _Cancelled:
            pass
        except (pyrage.DecryptError, OSError) as exc:  # payload failures surface as OSError
            failure.append(exc)
        finally:
            pipe.finish()

    worker = threading.Thread(target=decrypt, name="backup-decrypt", daemon=True)
    worker.start()
    try:
        result = _read_tar(pipe, label=label, expected_size=expected_size, sink=sink)
    except BaseException as exc:
        pipe.cancelled.set()
        worker.join()
        if failure:  # the tar broke because decryption did: say so
            raise _decrypt_error(failure[0], label) from failure[0]
        if isinstance(exc, (zstandard.ZstdError, tarfile.TarError, EOFError, OSError)):
            raise BackupDamaged(f"{label}: the compressed tar inside is damaged "
                                f"({exc})") from exc
        raise
    worker.join()
    if failure:
        raise _decrypt_error(failure[0], label) from failure[0]
    return result


def _read_tar(pipe: _Pipe, *, label: str, expected_size: int,
              sink: Callable[[str], BinaryIO]) -> Unpacked:
    import tarfile

    import zstandard

    names: list[str] = []
    hashes: dict[str, tuple[int, str]] = {}
    manifest = b""
    total = 0
    with zstandard.ZstdDecompressor().stream_reader(cast(BinaryIO, pipe),
                                                    read_size=_MIB) as plain, \
            tarfile.open(fileobj=plain, mode="r|") as tar:
        for info in tar:
            total += info.size
            if not info.isfile() or info.name in names:
                raise BackupDamaged(f"{label}: unexpected tar entry {info.name!r}")
            if total > expected_size:
                raise BackupDamaged(f"{label}: the tar inside is larger than its manifest says")
            names.append(info.name)
            member = tar.extractfile(info)
            assert member is not None  # a regular file
            digest, size = hashlib.sha256(), 0
            if info.name == MANIFEST_MEMBER:
                if info.size > MANIFEST_LIMIT:
                    raise BackupDamaged(f"{label}: {MANIFEST_MEMBER} is implausibly large")
                manifest = member.read()
                digest.update(manifest)
                size = len(manifest)
            else:
                out = sink(info.name)
                while chunk := member.read(_STEP):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            if size != info.size:
                raise BackupDamaged(f"{label}: the tar inside is cut short")
            hashes[info.name] = (size, digest.hexdigest())
        while plain.read(_STEP):  # the end of the zstd frame (and age's last chunk)
            pass
    return Unpacked(names, hashes, manifest)
