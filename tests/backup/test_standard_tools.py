"""An archive opens with the standard tools alone: age, zstd, tar, sqlite3, pg_restore."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pyrage
import pytest
import zstandard
from sqlalchemy import create_engine, make_url, text

from ehrlich.backup.keys import load_identity
from ehrlich.instance.service import Instance
from tests.backup.conftest import add_subjects
from tests.conftest import NOW, system_program


@pytest.fixture
def standard_tools(instance: Instance) -> None:
    """What a person restoring by hand needs installed."""
    for program in ("age", "zstd", "tar"):
        system_program(program, program)
    if instance.db.is_sqlite:
        system_program("sqlite3", "sqlite3")
    else:
        system_program("pg_restore", "postgresql-client")


def _unpack_with_cli(archive: Path, identity: Path, into: Path) -> list[str]:
    into.mkdir()
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f"age -d -i '{identity}' '{archive}' | zstd -d | tar xv"],
        cwd=into, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.usefixtures("standard_tools")
def test_age_zstd_tar_yield_dump_and_manifest(instance: Instance, recovery_identity: Path,
                                              tmp_path: Path, empty_target: str) -> None:
    add_subjects(instance, 4)
    sidecar = instance.backup.create(now=NOW)
    archive = Path(instance.backup.store().url) / sidecar.archive
    names = _unpack_with_cli(archive, recovery_identity, tmp_path / "out")
    dump = "database.sqlite3" if instance.db.is_sqlite else "database.pgdump"
    # The erasure ledger's copy travels encrypted with the dump; the manifest is last.
    assert names == [dump, "erasure-ledger.jsonl", "manifest.json"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest == json.loads(sidecar.manifest.model_dump_json())
    if instance.db.is_sqlite:
        count = subprocess.run(["sqlite3", str(tmp_path / "out" / dump),
                                "SELECT count(*) FROM subjects"],
                               capture_output=True, text=True, check=True).stdout
    else:
        by_hand = make_url(empty_target).set(drivername="postgresql").difference_update_query(
            ["options"]).render_as_string(hide_password=False)  # as a person would type it
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={by_hand}",
                        str(tmp_path / "out" / dump)], check=True, capture_output=True)
        engine = create_engine(empty_target)
        with engine.connect() as conn:
            count = str(conn.execute(text("SELECT count(*) FROM subjects")).scalar_one())
        engine.dispose()
    assert int(count) == 4 == manifest["row_counts"]["subjects"]


def test_pyrage_opens_with_operations_identity(instance: Instance, ops_identity: Path) -> None:
    add_subjects(instance, 2)
    sidecar = instance.backup.create(now=NOW)
    raw = (Path(instance.backup.store().url) / sidecar.archive).read_bytes()
    plain = zstandard.ZstdDecompressor().decompressobj().decompress(
        pyrage.decrypt(raw, [load_identity(ops_identity)]))
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        assert [m.name for m in tar.getmembers()][-1] == "manifest.json"
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["backup_id"] == sidecar.manifest.backup_id
    assert manifest["ledger"]["entries"] == 0
