"""Destinations against real servers: OpenSSH's sshd for SFTP, moto's S3 server over HTTP."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ehrlich.backup.interfaces import BackupStore
from ehrlich.backup.stores import open_store
from ehrlich.backup.stores.sftp import SftpStore
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests import conftest as shared
from tests.backup.conftest import add_subjects
from tests.conftest import NOW


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


def _round_trip(instance: Instance, settings: Settings, store: BackupStore) -> None:
    backup = instance.backup
    backup.settings = settings
    add_subjects(instance, 3)
    first = backup.create(now=NOW)
    second = backup.create(now=NOW + timedelta(days=40))
    names = store.names()
    assert {first.archive, second.archive} <= set(names)
    assert all(not n.startswith(".partial") for n in names)
    assert store.size(first.archive) == first.archive_size
    report = backup.verify(second.manifest.backup_id, now=NOW + timedelta(days=40))
    assert report.row_counts["subjects"] == 3
    assert [r.verified for r in backup.list_backups()] == ["never", "ok"]
    # 40 days later, with one daily and no weekly/monthly kept, only the newest stays.
    backup.settings = settings.model_copy(update={"backup_keep": (1, 0, 0)})
    assert backup.prune(now=NOW + timedelta(days=40)) == [first.manifest.backup_id]
    assert first.archive not in store.names()


@pytest.mark.parametrize("in_ci", [False, True])
def test_without_openssh_the_sftp_tests_skip_outside_ci(
        in_ci: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    """A machine without OpenSSH skips them, naming the package; CI fails them instead."""
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with nothing installed
    monkeypatch.setattr(shared, "SYSTEM_DIRS", ())
    monkeypatch.setattr(shared, "REQUIRE_SERVICES", in_ci)
    outcome = pytest.fail.Exception if in_ci else pytest.skip.Exception
    with pytest.raises(outcome, match=r"sshd is not available: .*openssh-server"):
        request.getfixturevalue("sshd")


def test_sftp_destination(instance: Instance, sshd: tuple[str, Path, Path]) -> None:
    url, key, known_hosts = sshd
    settings = instance.settings.model_copy(update={
        "backup_destination": url, "backup_ssh_key": key, "backup_ssh_known_hosts": known_hosts})
    store = open_store(settings)
    try:
        _round_trip(instance, settings, store)
    finally:
        store.close()


def test_sftp_file_cut_short_while_read_ends_where_it_was_cut(
        sshd: tuple[str, Path, Path]) -> None:
    """The server's end-of-file answers end the read; the archive's hash check then fails."""
    url, key, known_hosts = sshd
    store = SftpStore(url, key_file=key, known_hosts=known_hosts)
    data = os.urandom(3 * 1024 * 1024 + 123)
    try:
        with store.writer("archive") as out:
            out.write(data)
        with store.reader("archive") as fh:  # opened at full size, then cut
            os.truncate(Path(urlsplit(url).path) / "archive", 100_000)
            assert fh.read() == data[:100_000]
            assert fh.read() == b""
    finally:
        store.close()


def test_sftp_refuses_unknown_host_key(instance: Instance, sshd: tuple[str, Path, Path],
                                       tmp_path: Path) -> None:
    from ehrlich.errors import ConfigurationError

    url, key, _ = sshd
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    store = open_store(instance.settings.model_copy(update={
        "backup_destination": url, "backup_ssh_key": key, "backup_ssh_known_hosts": empty}))
    with pytest.raises(ConfigurationError, match="cannot reach"):
        store.names()


def test_s3_destination(instance: Instance, s3_url: str) -> None:
    settings = instance.settings.model_copy(update={"backup_destination": s3_url})
    store = open_store(settings)
    try:
        _round_trip(instance, settings, store)
    finally:
        store.close()


def test_s3_interrupted_upload_leaves_no_object(instance: Instance, s3_url: str) -> None:
    store = open_store(instance.settings.model_copy(update={"backup_destination": s3_url}))
    def interrupted() -> None:
        with store.writer("x.tar.zst.age") as out:
            out.write(b"half an archive")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        interrupted()
    assert store.names() == []
    store.close()
