"""Backup and verify stream: the database never passes through memory whole."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import text

from ehrlich.instance.service import Instance
from tests.conftest import NOW

_MIB = 1024 * 1024
PADDING_MIB = 96
LIMIT_MIB = 64  # well under the 96 MiB database: a whole copy in memory fails it


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
