"""Erasure ledger appends: the ledger table against the file with `flock` it replaced.

    python -m bench.erasure_ledger [--appends 200] [--postgres URL]

Each process appends `--appends` entries, each in a transaction of its own as an
erasure does, with 1 and 4 processes at once; then the whole chain is verified.
Baseline, same run: the file ledger of earlier versions (JSON lines, exclusive
`flock`, fsync per append), reproduced here since the product no longer has it.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from bench.report import write_section
from ehrlich.crypto.digests import derive_key, hmac_sha256
from ehrlich.crypto.envelope import length_prefixed
from ehrlich.crypto.keyfile import create_key_file
from ehrlich.crypto.providers import open_keyring
from ehrlich.settings import Settings
from ehrlich.subjects.ledger import ErasureLedger, ErasureRecord

PROCESS_COUNTS = (1, 4)
NOTE = ("What this costs: an append is now a database transaction (SQLite with "
        "synchronous=FULL, or a PostgreSQL commit) instead of an fsync, and racing appends "
        "retry on the new last entry instead of queueing on a lock, so the table is slower "
        "than the file, most with several processes on PostgreSQL. Erasures are rare events "
        "(a person's request, a retention rule); even the slowest row allows about 180,000 "
        "erasures an hour across every host, and the file it replaces could not be shared "
        "between hosts without shared storage at all.")


def _record(tag: str, n: int) -> ErasureRecord:
    return ErasureRecord(f"{tag}-{n:06d}", os.urandom(32), None, datetime.now(UTC))


def _file_appends(settings_json: str, target: str, tag: str, count: int, start: Any,
                  times: Any) -> None:
    """The file ledger as it was: read the last MAC under `flock`, append, fsync."""
    keyring = open_keyring(Settings.model_validate_json(settings_json))
    key = derive_key(keyring.audit_key, b"ehrlich erasure ledger v1")
    start.wait()
    began = time.monotonic()
    for n in range(count):
        r = _record(tag, n)
        entry = {"subject_id": r.subject_id, "email_index": (r.email_index or b"").hex(),
                 "phone_index": None, "erased_at": r.erased_at.isoformat()}
        body = json.dumps(entry, sort_keys=True, separators=(",", ":"))
        fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            size = os.lseek(fd, 0, os.SEEK_END)
            tail = os.pread(fd, min(size, 4096), max(0, size - 4096)).decode()
            lines = [line for line in tail.splitlines() if line.strip()]
            prev = json.loads(lines[-1])["mac"] if lines else "0" * 64
            mac = hmac_sha256(key, length_prefixed(prev.encode(), body.encode())).hex()
            fh.write(json.dumps({"entry": entry, "prev": prev, "mac": mac}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            fcntl.flock(fh, fcntl.LOCK_UN)
    times.put((began, time.monotonic()))
    keyring.close()


def _table_appends(settings_json: str, target: str, tag: str, count: int, start: Any,
                   times: Any) -> None:
    keyring = open_keyring(Settings.model_validate_json(settings_json))
    ledger = ErasureLedger(target, keyring)
    sum(1 for _ in ledger.entries())  # opened (and its table made) before the clock starts
    start.wait()
    began = time.monotonic()
    for n in range(count):
        ledger.append(_record(tag, n))
    times.put((began, time.monotonic()))
    ledger.close()
    keyring.close()


def _run(work: Callable[..., None], settings: Settings, target: str, processes: int,
         appends: int) -> float:
    """Appends per second from the moment every process is ready until the last is done."""
    spawn = multiprocessing.get_context("spawn")
    start, times = spawn.Barrier(processes), spawn.Queue()
    ready = [spawn.Process(target=work, args=(settings.model_dump_json(), target, f"p{i}",
                                              appends, start, times))
             for i in range(processes)]
    for p in ready:
        p.start()
    spans = [times.get(timeout=600) for _ in ready]
    for p in ready:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"an appending process failed ({p.exitcode})")
    return processes * appends / (max(e for _, e in spans) - min(b for b, _ in spans))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get(
        "EHRLICH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        settings = Settings(data_dir=base / "data", key_file=base / "keys" / "ehrlich.key")
        create_key_file(settings.key_file)
        keyring = open_keyring(settings)
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        for processes in PROCESS_COUNTS:
            name = f"ehrlich_bench_ledger_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            pg = make_url(args.postgres).set(database=name).render_as_string(
                hide_password=False)
            targets = {
                "file + flock (before)": (_file_appends, str(base / f"file-{processes}.jsonl")),
                "SQLite table (default)": (_table_appends,
                                           f"sqlite:///{base / f'ledger-{processes}.sqlite3'}"),
                "PostgreSQL table": (_table_appends, pg),
            }
            rates = {label: _run(work, settings, target, processes, args.appends)
                     for label, (work, target) in targets.items()}
            for _, target in list(targets.values())[1:]:
                ledger = ErasureLedger(target, keyring)
                assert sum(1 for _ in ledger.entries()) == processes * args.appends
                ledger.close()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            baseline = rates["file + flock (before)"]
            for label, rate in rates.items():
                rows.append(f"| {processes} | {label} | {rate:,.0f} | {rate / baseline:.2f}× |")
        admin.dispose()
        keyring.close()
    body = "\n".join([
        "## Erasure ledger: appends from several processes (`python -m bench.erasure_ledger`)",
        "",
        f"Each process appends {args.appends} entries, one transaction (or fsync) each, as "
        "erasures do; the chain is verified afterwards (every entry present, one chain). "
        "Baseline, same run: the file ledger of earlier versions (exclusive `flock`, fsync per "
        "append), which needed shared storage with working locks across hosts. The clock runs "
        "from the moment every process is ready (imports, key file and ledger opened) until "
        "the last one is done.",
        "",
        "| processes | ledger | appends/s | vs file |",
        "|---:|---|---:|---:|",
        *rows,
        "",
        NOTE,
        "",
        f"Load average at the start: {load:.1f}.",
    ])
    write_section("erasure_ledger", body)
    print(body)


if __name__ == "__main__":
    main()
