"""The sealed spool: round trip, nothing readable on disk, tampering refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ehrlich.crypto.spool import RECORD, SealedSpool
from ehrlich.errors import IntegrityFailure


@pytest.mark.parametrize("size", [0, 1, RECORD, 2 * RECORD + 7])
def test_round_trip(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    spool = SealedSpool(tmp_path / "s")
    assert spool.fill(io.BytesIO(data)) == size
    with spool.reader() as fh:
        assert fh.read() == data
    assert b"x" * 64 not in (tmp_path / "s").read_bytes()


def test_tampering_is_refused(tmp_path: Path) -> None:
    spool = SealedSpool(tmp_path / "s")
    spool.fill(io.BytesIO(b"secret " * 1000))
    raw = bytearray((tmp_path / "s").read_bytes())
    raw[10] ^= 1
    (tmp_path / "s").write_bytes(raw)
    with spool.reader() as fh, pytest.raises(IntegrityFailure):
        fh.read()


def test_cut_short_is_refused(tmp_path: Path) -> None:
    spool = SealedSpool(tmp_path / "s")
    spool.fill(io.BytesIO(b"y" * (RECORD + 10)))
    raw = (tmp_path / "s").read_bytes()
    (tmp_path / "s").write_bytes(raw[:RECORD + 20])  # the last record is gone
    with spool.reader() as fh, pytest.raises(IntegrityFailure):
        fh.read()
