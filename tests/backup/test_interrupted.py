"""A backup process killed part-way leaves nothing behind after the next run starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ehrlich.backup.models import RUN_COMPLETE, RUN_FAILED, BackupRun
from ehrlich.backup.snapshot import work_directory
from ehrlich.instance.service import Instance
from tests.backup.conftest import add_subjects
from tests.conftest import NOW

# The child makes a real backup, but stops for good once part of the archive is written,
# the way a process does when the machine runs out of memory and it is killed.
_CHILD = """
import signal, sys
from pathlib import Path
from ehrlich.backup import service
from ehrlich.domains import open_instance
from ehrlich.settings import config_file_for, load_settings
from tests.conftest import NOW

real_pack = service.pack

def stalled_pack(outs, blocks, recipients):
    for out in outs:
        out.write(b"age-encryption.org/v1 (first bytes)")
        out.flush()
    Path(sys.argv[3]).write_text("stalled")
    signal.pause()

service.pack = stalled_pack
settings = load_settings(config_file_for(Path(sys.argv[1])), backup_destination=sys.argv[2])
open_instance(settings).backup.create(now=NOW)
"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


def _wait_for(path: Path, child: subprocess.Popen[bytes], log: Path) -> None:
    while not path.exists():
        assert child.poll() is None, log.read_text()
        time.sleep(0.05)


def test_killed_run_is_cleaned_up_at_next_start(instance: Instance, tmp_path: Path) -> None:
    add_subjects(instance, 3)
    destination = Path(instance.settings.backup_destination)
    stalled, log = tmp_path / "stalled", tmp_path / "child.log"
    with log.open("wb") as errors:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(instance.settings.data_dir), str(destination),
             str(stalled)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, stderr=errors)
    try:
        _wait_for(stalled, child, log)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    work = work_directory(instance.settings.data_dir)
    left = sorted(p.name for p in [*work.iterdir(), *destination.iterdir()])
    assert any(name.startswith(".partial-") and name.endswith(".tar.zst.age") for name in left)
    assert any(name.startswith(".partial-") and name.endswith(".sqlite3") for name in left)
    with instance.db.read() as session:
        assert session.execute(select(BackupRun.status)).scalars().all() == ["running"]

    made = instance.backup.create(now=NOW)

    assert sorted(p.name for p in work.iterdir()) == []
    assert sorted(p.name for p in destination.iterdir()) == sorted(
        [made.archive, made.manifest.backup_id + ".manifest.json"])
    with instance.db.read() as session:
        runs = {r.id: r for r in session.execute(select(BackupRun)).scalars()}
    killed = next(r for r in runs.values() if r.id != made.manifest.backup_id)
    assert killed.status == RUN_FAILED
    assert killed.detail.startswith("interrupted: the process making it ended")
    assert runs[made.manifest.backup_id].status == RUN_COMPLETE


def test_a_live_run_is_left_alone(instance: Instance) -> None:
    """Another process still backing up on this host keeps its files and its row."""
    work = work_directory(instance.settings.data_dir)
    work.mkdir(parents=True, exist_ok=True)
    mine = work / f".partial-{os.getpid()}-other.sqlite3"
    mine.write_bytes(b"in progress")
    instance.backup.create(now=NOW)
    assert mine.exists()
