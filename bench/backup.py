"""Backup + verify of a large SQLite instance against the standard tools, to two destinations.

    python -m bench.backup [SUBJECTS]

Ours, each in its own process so that its peak memory (ru_maxrss) is its own:
`BackupService.create` (online backup API into the private work file, tar,
zstd, age to two recipients, written to a local directory and over SFTP to a
loopback OpenSSH server at once, read back and hash-checked at both, signed
manifest) then `verify` (signature, hash, decrypt, decompress, load into a
scratch database, quick_check, count every table, replay the erasure ledger,
and the signed manifest and archive hash at the second destination).
Baseline, in the same run: `sqlite3 .backup` to a file, `zstd | age` to the
same two recipients; and for verify, on our archive,
`age -d | zstd -d | tar x` and `sqlite3 'PRAGMA integrity_check'`.
Throughput is database bytes per second of wall time. Afterwards two backups
are swapped at the destination and a manifest is forged; verify must refuse both.
"""

from __future__ import annotations

import getpass
import json
import os
import platform
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.backup_population import WORK, bench_settings, populate
from ehrlich.backup.keys import create_backup_keys
from ehrlich.settings import Settings

RESULTS = Path(__file__).parent / "RESULTS.md"
ROUNDS = 3
START, END = "<!-- bench:backup -->", "<!-- /bench:backup -->"
KEYS = WORK / "bench-backup-keys"
LOCAL, REMOTE = WORK / "backups", WORK / "remote-backups"


def _public_lines(name: str) -> str:
    return next(line.split(": ", 1)[1] for line in (KEYS / name).read_text().splitlines()
                if line.startswith("# public key: "))


def _settings(second: dict[str, object]) -> Settings:
    if not (KEYS / "backup-signing.key").exists():
        shutil.rmtree(KEYS, ignore_errors=True)
        create_backup_keys(KEYS)
    return bench_settings().model_copy(update={
        "backup_recipients": [_public_lines("backup-operations.agekey"),
                              _public_lines("backup-recovery.agekey")],
        "backup_identity": KEYS / "backup-operations.agekey",
        "backup_signing_key": KEYS / "backup-signing.key",
        "backup_signing_public_key": _public_lines("backup-signing.key"),
        "backup_destination": str(LOCAL), **second})


@contextmanager
def _sshd() -> Iterator[dict[str, object]]:
    """A loopback OpenSSH server; yields the settings of an SFTP second destination."""
    ssh = WORK / "ssh"
    shutil.rmtree(ssh, ignore_errors=True)
    ssh.mkdir(parents=True)
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / name)],
                       check=True)
    (ssh / "authorized_keys").write_text((ssh / "client_key.pub").read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    (ssh / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nHostKey {ssh / 'host_key'}\n"
        f"AuthorizedKeysFile {ssh / 'authorized_keys'}\nPidFile {ssh / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    server = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(ssh / "sshd_config"),
                               "-p", str(port)], stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        kind, key = (ssh / "host_key.pub").read_text().split()[:2]
        (ssh / "known_hosts").write_text(f"[127.0.0.1]:{port} {kind} {key}\n")
        yield {"backup_second_destination":
               f"sftp://{getpass.getuser()}@127.0.0.1:{port}{REMOTE}",
               "backup_ssh_key": ssh / "client_key", "backup_ssh_known_hosts": ssh / "known_hosts"}
    finally:
        server.terminate()
        server.wait(timeout=10)


def child(step: str, second: str, arg: str) -> None:
    """One create or verify in this process; prints seconds and peak RSS as JSON."""
    from ehrlich.domains import open_instance

    settings = _settings(json.loads(second))
    instance = open_instance(settings)
    now = datetime.now(UTC)
    start = time.perf_counter()
    result: dict[str, object] = {}
    try:
        if step == "create":
            made = instance.backup.create(now=now + timedelta(seconds=int(arg)))
            result = {"id": made.manifest.backup_id, "size": made.archive_size}
        else:
            report = instance.backup.verify(arg, now=now)
            result = {"detail": report.detail}
    except Exception as exc:  # the swap and forgery checks expect a refusal
        result = {"error": type(exc).__name__, "message": str(exc)}
    finally:
        instance.close()
    result["seconds"] = time.perf_counter() - start
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _ours(step: str, second: dict[str, object], arg: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.backup", "--child", step,
         json.dumps({k: str(v) for k, v in second.items()}), arg],
        capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _timed_sh(script: str, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _machine() -> str:
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])  # type: ignore[index]
    tools = {t: subprocess.run([t, "--version"], capture_output=True, text=True,
                               check=False).stdout.split("\n")[0].strip()
             for t in ("zstd", "age", "sqlite3")}
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}; " + "; ".join(f"{k} {v}" for k, v in tools.items()))


def _detections(second: dict[str, object], ids: list[str]) -> tuple[str, str]:
    """Swap the first two backups at the local destination; forge the third's manifest."""
    a, b = ids[0], ids[1]
    for suffix in (".tar.zst.age", ".manifest.json"):
        (LOCAL / f"{a}{suffix}").rename(LOCAL / "swap")
        (LOCAL / f"{b}{suffix}").rename(LOCAL / f"{a}{suffix}")
        (LOCAL / "swap").rename(LOCAL / f"{b}{suffix}")
    swapped = _ours("verify", second, b)
    sidecar = LOCAL / f"{ids[2]}.manifest.json"
    forged = json.loads(sidecar.read_text())
    forged["manifest"]["row_counts"]["subjects"] += 1
    sidecar.write_text(json.dumps(forged))
    forgery = _ours("verify", second, ids[2])
    return str(swapped.get("message", "NOT DETECTED")), str(forgery.get("message",
                                                                        "NOT DETECTED"))


def run(count: int) -> str:
    settings = populate(count)
    db_path = settings.data_dir / "ehrlich.db"
    size = db_path.stat().st_size
    recipients = _settings({}).backup_recipients
    ops = KEYS / "backup-operations.agekey"
    base = WORK / "baseline"
    rflags = " ".join(f"-r {r}" for r in recipients)
    load = os.getloadavg()
    now = datetime.now(UTC)
    for path in (LOCAL, REMOTE):
        shutil.rmtree(path, ignore_errors=True)
    ours_runs: list[tuple[dict[str, object], dict[str, object]]] = []
    local_runs: list[tuple[dict[str, object], dict[str, object]]] = []
    base_runs: list[tuple[float, float]] = []
    with _sshd() as second:
        try:
            # Alternate the two, ROUNDS times, and keep each one's best: the machine is shared.
            for n in range(ROUNDS):
                made = _ours("create", second, str(n))
                checked = _ours("verify", second, str(made["id"]))
                if "error" in made or "error" in checked:
                    raise RuntimeError(f"backup or verify failed: {made} {checked}")
                ours_runs.append((made, checked))
                alone = _ours("create", {}, str(10 + n))  # the local destination only
                local_runs.append((alone, _ours("verify", {}, str(alone["id"]))))
                shutil.rmtree(base, ignore_errors=True)
                base.mkdir()
                backup = _timed_sh(f"sqlite3 '{db_path}' \".backup snap.db\" && zstd -q -3 -c "
                                   f"snap.db | age {rflags} > snap.db.zst.age && rm snap.db",
                                   base)
                archive = LOCAL / f"{made['id']}.tar.zst.age"
                verify = _timed_sh(f"age -d -i '{ops}' '{archive}' | zstd -q -d | tar x && "
                                   "sqlite3 database.sqlite3 'PRAGMA integrity_check' && "
                                   "rm database.sqlite3 manifest.json", base)
                base_runs.append((backup, verify))
            swap, forgery = _detections(second, [str(m["id"]) for m, _ in ours_runs])
            remote_files = sorted(p.name for p in REMOTE.iterdir())
        finally:
            shutil.rmtree(base, ignore_errors=True)
    for path in (LOCAL, REMOTE):
        shutil.rmtree(path, ignore_errors=True)

    def best(values: list[object]) -> float:
        return min(float(v) for v in values)  # type: ignore[arg-type]

    ours_backup = best([m["seconds"] for m, _ in ours_runs])
    ours_verify = best([v["seconds"] for _, v in ours_runs])
    base_backup = min(r[0] for r in base_runs)
    base_verify = min(r[1] for r in base_runs)
    local_backup = best([m["seconds"] for m, _ in local_runs])
    local_verify = best([v["seconds"] for _, v in local_runs])
    peak_local = max(max(float(m["peak_mib"]), float(v["peak_mib"]))  # type: ignore[arg-type]
                     for m, v in local_runs)
    peak_create = max(float(m["peak_mib"]) for m, _ in ours_runs)  # type: ignore[arg-type]
    peak_verify = max(float(v["peak_mib"]) for _, v in ours_runs)  # type: ignore[arg-type]
    archive_mib = int(ours_runs[0][0]["size"]) / 1024 / 1024  # type: ignore[call-overload]
    mib = size / 1024 / 1024
    detail = str(ours_runs[-1][1]["detail"])

    def rate(seconds: float) -> str:
        return f"{mib / seconds:.0f} MiB/s"

    return "\n".join([
        START,
        "## Backup and verify (`python -m bench.backup`)",
        "",
        f"Run {now:%Y-%m-%d %H:%M} UTC on {_machine()}. Load average at the start "
        f"{load[0]:.1f} (the 2 cores are shared with other work).",
        "",
        f"Database: {count:,} subjects, SQLite, {mib:.0f} MiB. Our archive "
        f"{archive_mib:.0f} MiB (zstd level 3, age to two X25519 recipients), written to a "
        "local directory and over SFTP (loopback OpenSSH) in the same pass.",
        "",
        f"Best of {ROUNDS} alternating runs of each.",
        "",
        "| step | ehrlich | standard tools | standard / ehrlich time | peak RSS (ehrlich) |",
        "|---|---|---|---|---|",
        f"| backup (both destinations) | {ours_backup:.1f} s ({rate(ours_backup)}) | "
        f"{base_backup:.1f} s ({rate(base_backup)}): `sqlite3 .backup`, `zstd -3`, `age` | "
        f"{base_backup / ours_backup:.0%} | {peak_create:.0f} MiB |",
        f"| backup (local only) | {local_backup:.1f} s ({rate(local_backup)}) | same | "
        f"{base_backup / local_backup:.0%} | {peak_local:.0f} MiB (backup or verify) |",
        f"| verify (both destinations) | {ours_verify:.1f} s ({rate(ours_verify)}) | "
        f"{base_verify:.1f} s "
        f"({rate(base_verify)}): `age -d \\| zstd -d \\| tar x`, `sqlite3 'PRAGMA "
        f"integrity_check'` on our archive | {base_verify / ours_verify:.0%} | "
        f"{peak_verify:.0f} MiB |",
        f"| verify (local only) | {local_verify:.1f} s ({rate(local_verify)}) | same | "
        f"{base_verify / local_verify:.0%} | |",
        "",
        f"Peak RSS is each ehrlich process's own `ru_maxrss`, about 138 MiB of it the "
        f"opened instance before any backup work. Memory does not grow with the database: "
        f"the snapshot goes through a file in the private work directory and every step "
        f"streams (`tests/backup/test_bounded_memory.py` holds Python allocations under "
        f"40 MiB for a 96 MiB database; before, 161 MiB), and reading back over SFTP "
        f"keeps 64 requests of 32 KiB in flight whatever the archive's size (the same "
        f"file's SFTP test: under 16 MiB for 64 MiB; with paramiko's `readv`, 27-35 MiB "
        f"and growing with the file). The standard tools write only "
        f"to one local file; ehrlich also writes over SFTP (paramiko) and reads the archive "
        f"back from both destinations, which is most of the gap between the two backup "
        f"rows. Verify (ours): signature, size and SHA-256, decrypt, decompress, "
        f"`quick_check`, count every table, replay the erasure ledger, plus the signed "
        f"manifest and archive hash at the second destination; the standard tools' verify "
        f"runs `integrity_check` (slower than `quick_check`) and checks nothing else. "
        f"Last verify: {detail}. "
        f"Files at the SFTP "
        f"destination: {len(remote_files)} (archive and signed manifest per backup).",
        "",
        f"Tampering at the destination, then `backup verify`: two backups swapped (both "
        f"files renamed) — refused: \"{swap}\"; a manifest's row count edited — refused: "
        f"\"{forgery}\".",
        END,
    ])


def write_section(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
        write_section(result)
        print(result)
