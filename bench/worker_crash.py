"""Killing workers while 1,000 confirmation mails and 100 erasures wait.

    python -m bench.worker_crash [--mails 1000] [--erasures 100] [--kills 5]
                                 [--postgres URL]

The crash run of tests/e2e/worker_crash.py at full size: real `ehrlich worker`
processes (two at a time, each with two threads) are SIGKILLed at random points,
the next one already starting; mails go to a loopback aiosmtpd sink that counts
them by Message-ID. Baseline: the same jobs in a fresh instance of the same
database, run by one worker that nobody kills, same run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.servers import free_port
from tests.e2e.worker_crash import LEASE_SECONDS, CrashRun, crash_run
from tests.mail.smtp_server import SmtpServer

from bench.postgres import reset_schema
from bench.report import write_section
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.settings import Settings


def one_run(base: Path, postgres: str | None, *, mails: int, erasures: int, kills: int,
            seed: int) -> CrashRun:
    if postgres:
        reset_schema(postgres)
    sink = SmtpServer(free_port()).start()
    url = {"database_url": postgres} if postgres else {}
    settings = Settings(data_dir=base / "data", key_file=base / "k.key",
                        base_url="https://shop.example", smtp_host="127.0.0.1",
                        smtp_port=sink.port, smtp_tls="none",
                        smtp_from="Shop <news@shop.example>", inprocess_worker=False, **url)
    config = init_instance(settings, now=datetime.now(UTC))
    instance = open_instance(settings)
    try:
        return crash_run(instance, config, sink, mails=mails, erasures=erasures, kills=kills,
                         seed=seed)
    finally:
        instance.close()
        sink.stop()


def line(label: str, baseline: CrashRun, run: CrashRun) -> str:
    mails_ok = set(run.delivered) == run.queued_ids
    unexplained = set(run.duplicates) - run.in_window
    return (f"| {label} | {run.mails:,} + {run.erasures:,} | {run.kills} | {run.interrupted} | "
            f"{len(run.delivered):,} of {len(run.queued_ids):,}{'' if mails_ok else ' MISSING'} | "
            f"{len(run.duplicates)} (window: {len(run.in_window)}, outside it: "
            f"{len(unexplained)}) | {run.erased_once:,} of {run.erasures:,} | "
            f"{run.left_in_queue} | {baseline.seconds:,.1f} s | {run.seconds:,.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--erasures", type=int, default=100)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--postgres", default="",
                        help="also run on this PostgreSQL database (emptied first)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    lines = []
    sizes = {"mails": args.mails, "erasures": args.erasures, "seed": args.seed}
    with tempfile.TemporaryDirectory() as tmp:
        for label, postgres in (("SQLite", None), ("PostgreSQL", args.postgres or None)):
            if label == "PostgreSQL" and postgres is None:
                continue
            base = Path(tmp) / label
            baseline = one_run(base / "baseline", postgres, kills=0, **sizes)
            run = one_run(base / "crash", postgres, kills=args.kills, **sizes)
            lines.append(line(label, baseline, run))
            print(lines[-1], flush=True)
    body = "\n".join([
        "## Jobs: killing workers while mails and erasures wait",
        "",
        f"{args.mails:,} confirmation mails (`mail.send`) and {args.erasures:,} erasures "
        "(`subjects.erase`) queued, then real `ehrlich worker` processes (two at a time, two "
        f"threads each, lease {LEASE_SECONDS} s) SIGKILLed at random points, the next one "
        "already starting, the last one running the queue empty. Mails are counted by "
        "Message-ID at a loopback aiosmtpd sink; an erasure counts when the person is erased "
        "with exactly one `subject.erase` audit entry. Window: mails a killed worker was "
        "handing over (marked begun, not acknowledged); only these may arrive twice. A kill "
        "comes within 20 ms of the sink counting a delivery, which aims it at the moment "
        "between the server's answer and the worker's commit: more copies than random kills "
        "would make. Baseline: the same jobs in a fresh instance, one worker, no kill, same "
        "run.",
        "",
        "| database | mails + erasures | kills | jobs interrupted | mails arrived | "
        "arrived twice | erasures done once | left in queue | baseline | with kills |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
        *lines,
        "",
        "Target: every mail arrives and every erasure is done; a second copy only for a mail "
        "in the window; nothing left in the queue.",
        "",
        f"Load average at the start: {load:.1f} (the 2-core machine is shared with other "
        "work; the times include the start-up of each worker process).",
    ])
    write_section("worker_crash", body)


if __name__ == "__main__":
    main()
