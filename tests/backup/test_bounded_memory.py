"""Backup and verify stream: the database never passes through memory whole."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import text

from ehrlich.backup.stores.sftp import SftpStore
from ehrlich.instance.service import Instance
from tests.conftest import NOW

_MIB = 1024 * 1024
PADDING_MIB = 96
LIMIT_MIB = 64  # well under the 96 MiB database: a whole copy in memory fails it
SFTP_FILE_MIB = 64
SFTP_LIMIT_MIB = 16  # a quarter of the file: what piles up as it is read fails it


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Streaming is the same code on both databases but the snapshot: SQLite here."""
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


def test_backup_and_verify_stay_below_a_bound(instance: Instance) -> None:
    with instance.db.write() as session:  # incompressible, so the archive is as large
        session.execute(text("CREATE TABLE padding (b BLOB)"))
        for _ in range(PADDING_MIB):
            session.execute(text("INSERT INTO padding VALUES (randomblob(:n))"), {"n": _MIB})
    tracemalloc.start()
    try:
        made = instance.backup.create(now=NOW)
        create_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        report = instance.backup.verify(made.manifest.backup_id, now=NOW)
        verify_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert made.archive_size > PADDING_MIB * _MIB
    assert report.row_counts["padding"] == PADDING_MIB
    assert create_peak < LIMIT_MIB * _MIB
    assert verify_peak < LIMIT_MIB * _MIB


def test_sftp_upload_and_read_back_stay_below_a_bound(sshd: tuple[str, Path, Path]) -> None:
    """The SFTP destination's own memory: requests in flight, not the file.

    paramiko's `readv` windows kept answers they had stopped waiting for
    (27-35 MiB traced for this 64 MiB file, growing with the file).
    """
    url, key, known_hosts = sshd
    store = SftpStore(url, key_file=key, known_hosts=known_hosts)
    block, sent = os.urandom(_MIB), hashlib.sha256()
    store.names()  # connected before measuring: the handshake is not the file
    tracemalloc.start()
    try:
        with store.writer("large") as out:
            for i in range(SFTP_FILE_MIB):
                chunk = block[:-1] + bytes([i])
                sent.update(chunk)
                out.write(chunk)
        write_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        received = hashlib.sha256()
        with store.reader("large") as fh:
            while chunk := fh.read(_MIB):
                received.update(chunk)
        read_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        store.close()
    assert received.hexdigest() == sent.hexdigest()
    assert write_peak < SFTP_LIMIT_MIB * _MIB
    assert read_peak < SFTP_LIMIT_MIB * _MIB
