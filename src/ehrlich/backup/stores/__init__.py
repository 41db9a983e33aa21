"""Backup destinations: local directory (default), SFTP, S3-compatible."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from ehrlich.backup.interfaces import BackupStore
from ehrlich.errors import ConfigurationError
from ehrlich.settings import Settings


def second_destination(settings: Settings) -> str | None:
    return settings.backup_second_destination.strip() or None


def open_store(settings: Settings, url: str | None = None) -> BackupStore:
    """The store for `url` (default: the configured destination)."""
    target = url or settings.effective_backup_destination
    scheme = urlsplit(target).scheme
    if scheme in ("", "file"):
        from ehrlich.backup.stores.local import LocalStore

        return LocalStore(Path(urlsplit(target).path if scheme else target))
    if scheme == "sftp":
        from ehrlich.backup.stores.sftp import SftpStore

        return SftpStore(target, key_file=settings.backup_ssh_key,
                         known_hosts=settings.backup_ssh_known_hosts)
    if scheme == "s3":
        from ehrlich.backup.stores.s3 import S3Store

        return S3Store(target)
    raise ConfigurationError(f"backup destination {target!r}: use a directory, "
                             "sftp://USER@HOST[:PORT]/PATH or s3://BUCKET/PREFIX?endpoint=URL")
