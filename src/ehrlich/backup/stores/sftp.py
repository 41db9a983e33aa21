"""An SFTP server (OpenSSH or any other), key authentication, known host keys only.

URL: `sftp://USER@HOST[:PORT]/ABSOLUTE/PATH`. The client key is
`backup_ssh_key`; the server's host key must be in `backup_ssh_known_hosts`
(default: the user's known_hosts) — an unknown host key is refused.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import posixpath
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast
from urllib.parse import unquote, urlsplit

import paramiko
from paramiko.sftp import CMD_DATA, CMD_READ, CMD_STATUS, int64

from ehrlich.backup.interfaces import TEMP_PREFIX
from ehrlich.backup.stores.stale import STALE_AFTER
from ehrlich.errors import ConfigurationError

BUFFER = 1024 * 1024
IN_FLIGHT = 64  # read requests outstanding at once (64 x 32 KiB = 2 MiB, paramiko's window)
_REQUEST = 32 * 1024  # what one SFTP read request returns at most (OpenSSH, paramiko)


class _Requests(Protocol):
    """paramiko.SFTPClient's request/response primitives (not in its type stubs)."""

    def _async_request(self, fileobj: object, t: int, *args: object) -> int: ...

    def _read_response(self, waitfor: int | None = None
                       ) -> tuple[int | None, paramiko.Message | None]: ...

    def _convert_status(self, msg: paramiko.Message) -> None: ...


class _PipelinedReader(io.RawIOBase):
    """Reads a file front to back with at most IN_FLIGHT requests outstanding.

    Not paramiko's `prefetch` or `readv`. `prefetch` keeps whatever arrives
    faster than it is read. `readv` loses track of its own requests when the
    first answer comes back before its sending thread has registered the
    second: it marks the window done, reads on synchronously, and the rest of
    the window's answers stay in the file object until it is closed (read
    slowly, 130 MiB traced for a 400 MiB file, 250 MiB for 1,000 MiB; the same
    race as paramiko/paramiko#2519, open in paramiko 5.1). Here
    each request is sent, matched to its answer and dropped by this object
    alone, in order, so memory is the window whatever the file's size. It uses
    paramiko's request/response primitives (`_async_request`,
    `_read_response`), unchanged since paramiko 1.x; one thread reads at a time.
    """

    def __init__(self, sftp: paramiko.SFTPClient, fh: paramiko.SFTPFile, size: int) -> None:
        self._sftp, self._handle, self._size = cast(_Requests, sftp), fh.handle, size
        self._next = 0  # the first byte not yet requested
        self._pending: collections.deque[tuple[int, int, int]] = collections.deque()
        self._arrived: dict[int, tuple[int, paramiko.Message]] = {}
        self._block, self._pos = memoryview(b""), 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def _async_response(self, kind: int, msg: paramiko.Message, num: int) -> None:
        """paramiko hands over the answers to our requests that come in while it waits
        for another one (after the end, those still in flight are dropped)."""
        if not self._ended:
            self._arrived[num] = (kind, msg)

    def _request(self, offset: int, length: int, *, first: bool = False) -> None:
        num = self._sftp._async_request(self, CMD_READ, self._handle, int64(offset),
                                        int(length))
        if first:
            self._pending.appendleft((num, offset, length))
        else:
            self._pending.append((num, offset, length))

    def _fill(self) -> None:
        while len(self._pending) < IN_FLIGHT and self._next < self._size:
            length = min(_REQUEST, self._size - self._next)
            self._request(self._next, length)
            self._next += length

    def _next_block(self) -> bool:
        if self._ended:
            return False
        self._fill()
        if not self._pending:
            return False
        num, offset, length = self._pending.popleft()
        kind, msg = self._arrived.pop(num, None) or (None, None)
        try:
            if msg is None:
                kind, msg = self._sftp._read_response(num)
            elif kind == CMD_STATUS:
                self._sftp._convert_status(msg)
        except EOFError:  # the file is shorter than when it was opened
            return self._end()
        if kind != CMD_DATA or msg is None:
            raise paramiko.SFTPError(f"expected data from the server, got message {kind}")
        data = msg.get_string()
        if not data:
            return self._end()
        if len(data) < length:  # a server may answer with less: ask for the rest first
            self._request(offset + len(data), length - len(data), first=True)
        self._block, self._pos = memoryview(data), 0
        return True

    def _end(self) -> bool:
        self._ended = True
        self._pending.clear()
        self._arrived.clear()
        return False

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(target):
            if self._pos >= len(self._block) and not self._next_block():
                break
            n = min(len(target) - filled, len(self._block) - self._pos)
            target[filled:filled + n] = self._block[self._pos:self._pos + n]
            self._pos += n
            filled += n
        return filled


class SftpStore:
    def __init__(self, url: str, *, key_file: Path | None, known_hosts: Path | None,
                 what: str = "backup destination",
                 hint: str = "check backup_ssh_key and backup_ssh_known_hosts") -> None:
        """`what` and `hint` name the destination and its settings in errors (the sharing
        domain's processor sync writes through this client too)."""
        parts = urlsplit(url)
        self._what, self._hint = what, hint
        if not parts.hostname or not parts.username or not parts.path.startswith("/"):
            raise ConfigurationError(f"{what} {url!r}: use "
                                     "sftp://USER@HOST[:PORT]/ABSOLUTE/PATH")
        self._host, self._port = parts.hostname, parts.port or 22
        self._user = unquote(parts.username)
        self._dir = parts.path.rstrip("/") or "/"
        self._key_file, self._known_hosts = key_file, known_hosts
        self.url = f"sftp://{self._user}@{self._host}:{self._port}{self._dir}"
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def _connect(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        if self._known_hosts is not None:
            client.load_host_keys(str(self._known_hosts))
        else:
            client.load_system_host_keys()
        try:
            client.connect(self._host, port=self._port, username=self._user,
                           key_filename=str(self._key_file) if self._key_file else None,
                           look_for_keys=self._key_file is None, allow_agent=False,
                           timeout=30)
        except (paramiko.SSHException, OSError) as exc:
            client.close()
            raise ConfigurationError(f"cannot reach {self._what} {self.url}: {exc} "
                                     f"({self._hint})") from exc
        self._client, self._sftp = client, client.open_sftp()
        return self._sftp

    def _path(self, name: str) -> str:
        return posixpath.join(self._dir, name)

    def _ensure_dir(self, sftp: paramiko.SFTPClient, path: str | None = None) -> None:
        path = path or self._dir
        try:
            sftp.stat(path)
        except FileNotFoundError:
            self._ensure_dir(sftp, posixpath.dirname(path))
            sftp.mkdir(path, mode=0o700)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        sftp = self._connect()
        self._ensure_dir(sftp)
        temp = self._path(f"{TEMP_PREFIX}{os.getpid()}-{name}")
        done = False
        try:
            with sftp.open(temp, "wb", bufsize=BUFFER) as fh:
                fh.set_pipelined(True)
                sftp.chmod(temp, 0o600)
                yield cast(BinaryIO, fh)
            sftp.posix_rename(temp, self._path(name))
            done = True
        finally:
            if not done:
                with contextlib.suppress(OSError):
                    sftp.remove(temp)

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        sftp = self._connect()
        with sftp.open(self._path(name), "rb", bufsize=BUFFER) as fh:
            yield cast(BinaryIO, _PipelinedReader(sftp, fh, fh.stat().st_size or 0))

    def size(self, name: str) -> int | None:
        try:
            return self._connect().stat(self._path(name)).st_size
        except FileNotFoundError:
            return None

    def names(self) -> list[str]:
        try:
            entries = self._connect().listdir_attr(self._dir)
        except FileNotFoundError:
            return []
        return sorted(e.filename for e in entries
                      if stat.S_ISREG(e.st_mode or 0) and not e.filename.startswith(TEMP_PREFIX))

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._connect().remove(self._path(name))

    def discard_partials(self, *, now: datetime) -> int:
        """Temporary files nobody has written to for STALE_AFTER (the writer may be elsewhere)."""
        try:
            entries = self._connect().listdir_attr(self._dir)
        except FileNotFoundError:
            return 0
        limit = (now - STALE_AFTER).timestamp()
        stale = [e.filename for e in entries
                 if e.filename.startswith(TEMP_PREFIX) and (e.st_mtime or 0) < limit]
        for name in stale:
            self.delete(name)
        return len(stale)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._sftp = None
