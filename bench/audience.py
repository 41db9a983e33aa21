"""The audience stream, decrypted, against the same stream of ids alone.

    python -m bench.audience [--subjects 100000]

Seeds N subjects through `SubjectsService.create_many` (encrypted, as in
production) and gives each an active consent (state rows inserted directly:
the ledger's write path is not what is measured). Then, on SQLite, in one run:

- baseline: `stream_audience` — the ids of everyone with active consent, in
  batches of 1,000, each batch its own read transaction;
- measured: `export_audience` — the same batches, each decrypted by the
  subjects service (unwrap the person's data key, open the address with
  AES-256-GCM) and written to the audit chain as one entry naming every
  subject disclosed.

Aim: >= 50,000 decrypted rows/s on SQLite.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from bench.report import write_section
from ehrlich.consent.audience import export_audience, stream_audience
from ehrlich.consent.models import ConsentState
from ehrlich.consent.service import GENESIS
from ehrlich.instance.service import Instance, init_instance, open_instance
from ehrlich.settings import Settings
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import SubjectInput

BATCH = 1000


def seed(instance: Instance, n: int) -> None:
    now = datetime.now(UTC)
    for offset in range(0, n, BATCH):
        with instance.db.write() as session:
            instance.subjects.create_many(
                session, [SubjectInput(email=f"person{i}@example{i % 97}.org")
                          for i in range(offset, min(n, offset + BATCH))],
                actor="bench", now=now)
    with instance.db.read() as session:
        ids = list(session.execute(select(Subject.id)).scalars())
    for offset in range(0, len(ids), BATCH * 10):
        with instance.db.write() as session:
            session.execute(insert(ConsentState), [
                {"subject_id": sid, "purpose": "newsletter", "channel": "email",
                 "state": "active", "since": now, "notice_version": 1,
                 "last_event_id": None, "last_event_hash": GENESIS}
                for sid in ids[offset:offset + BATCH * 10]])


def timed(fn: object) -> tuple[int, float]:
    start = time.perf_counter()
    rows = sum(len(batch) for batch in fn())  # type: ignore[operator]
    return rows, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", key_file=Path(tmp) / "keys" / "k")
        init_instance(settings, now=datetime.now(UTC))
        instance = open_instance(settings)
        try:
            seed(instance, args.subjects)
            now = datetime.now(UTC)
            best_ids, best_export = 0.0, 0.0
            for _ in range(2):  # interleaved, best of two each
                n_ids, s_ids = timed(lambda: stream_audience(instance.db, "newsletter",
                                                             "email", batch_size=BATCH))
                n_rows, s_rows = timed(lambda: export_audience(
                    instance.db, instance.subjects, "newsletter", "email", actor="bench",
                    now=now, batch_size=BATCH))
                assert n_ids == n_rows == args.subjects
                best_ids = max(best_ids, n_ids / s_ids)
                best_export = max(best_export, n_rows / s_rows)
        finally:
            instance.close()
    body = (f"## Audience stream, decrypted\n\n"
            f"`python -m bench.audience --subjects {args.subjects}`: SQLite, batches of "
            f"{BATCH}, each its own transaction; best of 2 interleaved runs.\n\n"
            f"| stream | rows/s |\n|---|---|\n"
            f"| ids of the active audience only (baseline) | {best_ids:,.0f} |\n"
            f"| ids + decrypted address, audited per batch (`export_audience`) | "
            f"{best_export:,.0f} |\n\n"
            f"Decrypted export: **{best_export:,.0f} rows/s** (aim: >= 50,000), "
            f"{best_export / best_ids:.0%} of the ids-only stream. Load average during "
            f"the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    write_section("audience", body)
    print(body)


if __name__ == "__main__":
    main()
