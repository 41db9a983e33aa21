"""Processor sync over SFTP against a release of the same audience to a file.

    python -m bench.processor_sync [--audience 20000] [--rounds 3]

One SQLite instance (in-process) with the example notice and N people with active
newsletter/email consent (`bench.consent.prepare`, cached under bench/.work/), and a
real OpenSSH server on a loopback port (key authentication, known host key). Baseline:
`SharingService.release` to the `mailer` recipient drained to the last byte — the same
selection, one disclosure row per person, each batch decrypted with its audit entry.
Measured, interleaved with the baseline in each round:

- full sync: the first run of a sync to a new SFTP folder: the audience's ids, the
  disclosure batch and rows, each batch re-checked and decrypted, one CSV written over
  SFTP and renamed, what the processor holds recorded;
- changes: the next run after 1 % of the audience withdrew: the audience's ids against
  what the processor holds, the look-up of the people held who were rectified since
  (nobody here), the removals and nothing else;
- removals check: the periodic removals-only run when nobody left (what every sync
  costs every five minutes).
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from bench.consented import WORK, prepare
from bench.population import NOW
from bench.report import write_section
from ehrlich.consent.ledger.audience import stream_audience
from ehrlich.consent.models import ConsentState
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.sharing.copies import Caller
from ehrlich.sharing.processor_settings import SyncSettings
from ehrlich.sharing.processors import ProcessorSyncService
from ehrlich.sharing.service import ExportRequest, SharingService

OPERATOR = Caller("bench")


@contextmanager
def sshd(folder: Path) -> Iterator[tuple[int, Path, Path]]:
    """OpenSSH's sshd on a loopback port: (port, client key, known_hosts)."""
    ssh = folder / "ssh"
    ssh.mkdir(parents=True)
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(ssh / name)], check=True)
    (ssh / "authorized_keys").write_text((ssh / "client_key.pub").read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    (ssh / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nHostKey {ssh / 'host_key'}\n"
        f"AuthorizedKeysFile {ssh / 'authorized_keys'}\nPidFile {ssh / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n")
    if os.geteuid() == 0:
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
        yield port, ssh / "client_key", ssh / "known_hosts"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _release(instance: Instance) -> None:
    file = instance.service(SharingService).release(ExportRequest(
        "newsletter", "", "csv", "benchmark of a release", "the mailer"), "mailer",
        OPERATOR, now=NOW)
    for _ in file.body:
        pass


def _withdraw(instance: Instance, share: float) -> list[str]:
    """Set `share` of the audience's consent states to withdrawn (their state rows only:
    what the audience selection reads), returning them to restore afterwards."""
    ids = [sid for batch in stream_audience(instance.db, "newsletter", "email")
           for sid in batch]
    chosen = ids[:: int(1 / share)]
    with instance.db.write() as session:
        for sid in chosen:
            session.execute(update(ConsentState).where(ConsentState.subject_id == sid)
                            .values(state="withdrawn"))
    return chosen


def _restore(instance: Instance, ids: list[str]) -> None:
    with instance.db.write() as session:
        for sid in ids:
            session.execute(update(ConsentState).where(ConsentState.subject_id == sid)
                            .values(state="active"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--audience", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = WORK / f"sharing-{args.audience}"
    print(f"preparing {args.audience:,} consented subjects under {root} ...", flush=True)
    settings, _, _ = prepare(Path(root), args.audience)
    load_start = os.getloadavg()[0]
    instance = open_instance(settings)
    syncs = instance.service(ProcessorSyncService)
    runs: dict[str, list[float]] = {}
    sizes: list[int] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, sshd(Path(tmp)) as (port, key, known):
            for n in range(args.rounds):
                started = time.perf_counter()
                _release(instance)
                runs.setdefault("release", []).append(time.perf_counter() - started)
                folder = Path(tmp) / f"round-{n}"
                with instance.db.write() as session:
                    syncs.configure(session, "mailer", "newsletter", SyncSettings(
                        "sftp", ("email", "links"), sftp_host="127.0.0.1", sftp_port=port,
                        sftp_user=getpass.getuser(), sftp_path=str(folder),
                        sftp_key=str(key), sftp_known_hosts=str(known)), OPERATOR, now=NOW)
                at = NOW + timedelta(hours=n)
                started = time.perf_counter()
                syncs.run("mailer", "newsletter", OPERATOR, now=at)
                runs.setdefault("full", []).append(time.perf_counter() - started)
                sizes.append(sum(p.stat().st_size for p in folder.iterdir()))
                left = _withdraw(instance, 0.01)
                started = time.perf_counter()
                done = syncs.run("mailer", "newsletter", OPERATOR,
                                 now=at + timedelta(minutes=1))
                runs.setdefault("changes", []).append(time.perf_counter() - started)
                assert done.removed == len(left), done
                started = time.perf_counter()
                syncs.run("mailer", "newsletter", OPERATOR, now=at + timedelta(minutes=2),
                          removals_only=True)
                runs.setdefault("check", []).append(time.perf_counter() - started)
                _restore(instance, left)
                print("  round", n + 1, {k: f"{v[-1]:.2f}s" for k, v in runs.items()},
                      flush=True)
    finally:
        instance.close()
    load_end = os.getloadavg()[0]
    base = statistics.median(runs["release"])

    def rate(key: str) -> str:
        return f"{args.audience / statistics.median(runs[key]):,.0f}"

    rows = [
        ("release to a file (baseline): disclosure rows, decrypt + audit", "release",
         rate("release"), "100%"),
        ("full sync over SFTP: + ids, re-check, links, CSV written and renamed, "
         "members recorded", "full", rate("full"),
         f"{base / statistics.median(runs['full']):.0%}"),
        ("changes run after 1 % withdrew (removals only go; rectified people looked up)",
         "changes", "—", "—"),
        ("removals check, nobody left (every 5 minutes per sync)", "check", "—", "—")]
    table = "\n".join(f"| {label} | {statistics.median(runs[key]) * 1000:,.0f} ms | {r} | {p} |"
                      for label, key, r, p in rows)
    body = "\n".join([
        "## Processor sync: an audience over SFTP against a release to a file",
        "",
        f"`python -m bench.processor_sync --audience {args.audience} --rounds {args.rounds}`: "
        f"SQLite, in-process, {args.audience:,} people with active newsletter/email consent; "
        "a real OpenSSH server on loopback. Baseline: `SharingService.release` to the "
        "`mailer` recipient drained to the last byte (same selection, disclosure rows, "
        "decrypt and audit per batch). Each round: the baseline, then a full sync to a new "
        "SFTP folder (fields: email and the links), a changes run after 1 % of the audience "
        "withdrew, and a removals-only run with nobody leaving; medians of the rounds.",
        "",
        "| what | time (median) | people/s | of the release's rate |",
        "|---|---:|---:|---:|",
        table,
        "",
        f"CSV written per full sync: {statistics.median(sizes) / 2**20:.1f} MiB.",
        "",
        f"1-minute load average: {load_start:.1f} at the start, {load_end:.1f} at the end "
        "(the 2 cores are shared with other engineers' test runs; compare rows of the "
        "same run, not runs).",
    ])
    write_section("processor_sync", body)
    print(body)


if __name__ == "__main__":
    main()
