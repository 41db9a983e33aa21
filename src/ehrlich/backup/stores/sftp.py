"""An SFTP server (OpenSSH or any other), key authentication, known host keys only.

URL: `sftp://USER@HOST[:PORT]/ABSOLUTE/PATH`. The client key is
`backup_ssh_key`; the server's host key must be in `backup_ssh_known_hosts`
(default: the user's known_hosts) — an unknown host key is refused.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import unquote, urlsplit

import paramiko

from ehrlich.backup.interfaces import TEMP_PREFIX
from ehrlich.backup.stores.stale import STALE_AFTER
from ehrlich.errors import ConfigurationError

BUFFER = 1024 * 1024
WINDOW = 8 * 1024 * 1024  # read ahead at most this much
_REQUEST = 32 * 1024  # what one SFTP read request returns at most (OpenSSH)


class _WindowedReader(io.RawIOBase):
    """Pipelined reads, one window at a time.

    paramiko's `prefetch` of a whole file keeps whatever arrives faster than
    it is read in memory (130 MiB more for a 160 MiB archive); `readv` over
    one window at a time keeps the requests pipelined and memory bounded.
    """

    def __init__(self, fh: paramiko.SFTPFile, size: int) -> None:
        self._fh, self._size, self._offset = fh, size, 0
        self._block, self._pos = b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._pos >= len(self._block):
            if self._offset >= self._size:
                return 0
            end = min(self._size, self._offset + WINDOW)
            chunks = [(at, min(_REQUEST, end - at)) for at in range(self._offset, end, _REQUEST)]
            self._block, self._pos = b"".join(self._fh.readv(chunks)), 0
            self._offset = end
            if not self._block:
                return 0
        target = memoryview(buffer).cast("B")
        n = min(len(target), len(self._block) - self._pos)
        target[:n] = self._block[self._pos:self._pos + n]
        self._pos += n
        return n


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
            yield cast(BinaryIO, _WindowedReader(fh, fh.stat().st_size or 0))

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
