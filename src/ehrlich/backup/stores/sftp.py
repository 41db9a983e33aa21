"""An SFTP server (OpenSSH or any other), key authentication, known host keys only.

URL: `sftp://USER@HOST[:PORT]/ABSOLUTE/PATH`. The client key is
`backup_ssh_key`; the server's host key must be in `backup_ssh_known_hosts`
(default: the user's known_hosts) — an unknown host key is refused.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import unquote, urlsplit

import paramiko

from ehrlich.backup.interfaces import TEMP_PREFIX
from ehrlich.errors import ConfigurationError

BUFFER = 1024 * 1024


class SftpStore:
    def __init__(self, url: str, *, key_file: Path | None, known_hosts: Path | None) -> None:
        parts = urlsplit(url)
        if not parts.hostname or not parts.username or not parts.path.startswith("/"):
            raise ConfigurationError(f"backup destination {url!r}: use "
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
            raise ConfigurationError(f"cannot reach backup destination {self.url}: {exc} "
                                     "(check backup_ssh_key and backup_ssh_known_hosts)"
                                     ) from exc
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
            fh.prefetch()
            yield cast(BinaryIO, fh)

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

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._sftp = None
