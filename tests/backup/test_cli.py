"""`ehrlich backup ...` as an operator runs it, including SIGKILL in the middle of a backup."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import Cli


def _init(cli: Cli, tmp_path: Path) -> Path:
    r = cli("init", "--data-dir", "inst/data", "--key-file", "inst/keys/k.key")
    assert r.returncode == 0, r.stderr
    assert "recovery identity" in r.stdout
    assert "backup-recovery.agekey" in r.stdout.replace("\n", "")
    return tmp_path / "inst"


def _backup_ids(cli: Cli) -> list[str]:
    r = cli("--data-dir", "inst/data", "backup", "list")
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.split() if w.startswith("ehrlich-")]


def test_init_writes_both_identities_and_only_recipients_in_config(cli: Cli,
                                                                   tmp_path: Path) -> None:
    inst = _init(cli, tmp_path)
    config = (inst / "data" / "ehrlich.toml").read_text()
    for name in ("backup-operations.agekey", "backup-recovery.agekey"):
        identity = inst / "keys" / name
        assert oct(identity.stat().st_mode & 0o777) == "0o600"
        public = next(line.split(": ")[1] for line in identity.read_text().splitlines()
                      if line.startswith("# public key"))
        assert public in config
        assert "AGE-SECRET-KEY" not in config
    assert not list((inst / "data").glob("*.agekey"))


def test_create_list_verify_restore(cli: Cli, tmp_path: Path) -> None:
    inst = _init(cli, tmp_path)
    base = ("--data-dir", "inst/data", "backup")
    made = cli(*base, "create", "--verify")
    assert made.returncode == 0, made.stderr
    assert "Verified" in made.stdout
    [backup_id] = _backup_ids(cli)
    listing = cli(*base, "list").stdout
    assert "ok (" in listing
    assert cli(*base, "verify", "--latest").returncode == 0

    recovery = str(inst / "keys" / "backup-recovery.agekey")
    refused = cli(*base, "restore", backup_id, "--identity", recovery)
    assert refused.returncode == 6
    assert "--force" in refused.stderr
    done = cli(*base, "restore", backup_id, "--identity", recovery, "--force")
    assert done.returncode == 0, done.stderr
    assert "0 erasures replayed" in done.stdout

    archive = inst / "backups" / f"{backup_id}.tar.zst.age"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    broken = cli(*base, "verify", backup_id)
    assert broken.returncode == 4
    assert "SHA-256" in broken.stderr
    assert "failed (" in cli(*base, "list").stdout


def _fill_with_noise(db: Path, megabytes: int) -> None:
    """Incompressible rows, so that writing the archive takes a while."""
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("INSERT INTO instance_meta (key, value) VALUES (?, ?)",
                         [(f"noise:{n}", os.urandom(1024 * 1024)) for n in range(megabytes)])
    conn.close()


def test_sigkill_mid_backup_leaves_earlier_backups_intact(cli: Cli, tmp_path: Path) -> None:
    inst = _init(cli, tmp_path)
    _fill_with_noise(inst / "data" / "ehrlich.db", 48)
    assert cli("--data-dir", "inst/data", "backup", "create").returncode == 0
    complete = _backup_ids(cli)
    backups = inst / "backups"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
    killed_mid_way = False
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-m", "ehrlich", "--data-dir", "inst/data",
                                 "backup", "create"], cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None:
            partial = [p for p in backups.iterdir() if p.name.startswith(".partial-")
                       and p.stat().st_size > 0]
            if partial:
                os.kill(proc.pid, signal.SIGSTOP)
                manifests = {p.name for p in backups.glob("*.manifest.json")}
                killed_mid_way = len(manifests) == len(complete)
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait()
        if killed_mid_way:
            break
        complete = _backup_ids(cli)  # it finished before we caught it; try again
    assert killed_mid_way
    assert _backup_ids(cli) == complete  # the killed one is not listed
    for backup_id in complete:
        r = cli("--data-dir", "inst/data", "backup", "verify", backup_id)
        assert r.returncode == 0, r.stderr
    assert any(p.name.startswith(".partial-") for p in backups.iterdir())
