"""Erasure of 10,000 people, one at a time as requests arrive and in batches as retention
runs it, against the encrypted bulk create of the same people in the same run.

    python -m bench.erasure [--people 10000] [--one-by-one 2000] [--released-every 10]

An instance on SQLite (in a temporary directory) gets `people` subjects through
`SubjectsService.create_many` (batches of 1,000: the baseline, people per second), a
published notice, and a release to the recipient `mailer` of every `released-every`-th
person (one disclosure batch). Then the first `one-by-one` people are erased through
`SubjectsService.erase`, each in a transaction of their own, as `/my-data` and the staff
queue run it: ledger entry (fsynced), data key and notes deleted, fields cleared, counts,
audit entry, the erasure hooks (copies due, suppression, and for a released person the
job that tells the recipients, `sharing.notify_erasure`), and the purge of the deleted
key row. The rest go through `SubjectsService.erase_many` in one call (chunks of 500:
one ledger transaction, one main transaction and one purge per chunk). Last, one worker
runs those jobs (a task for staff each: `mailer` has no endpoint).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select, text

from bench.population import NOW, published_instance
from bench.report import write_section
from ehrlich.instance.service import Instance
from ehrlich.jobs.worker import Worker
from ehrlich.settings import Settings
from ehrlich.sharing.models import Disclosure, DisclosureBatch, RecipientTask
from ehrlich.storage.base import new_id
from ehrlich.subjects.schemas import SubjectInput

BATCH = 1000


def _erase(instance: Instance, single: list[str], batched: list[str]) -> tuple[float, float]:
    """Seconds to erase `single` one by one, then `batched` through `erase_many`."""
    started = time.perf_counter()
    for sid in single:
        instance.subjects.erase(instance.db, sid, actor="bench", now=NOW)
    erase_s = time.perf_counter() - started
    started = time.perf_counter()
    erased = instance.subjects.erase_many(instance.db, batched, actor="bench", now=NOW)
    many_s = time.perf_counter() - started
    assert erased == batched
    # the chain verifies and holds everyone
    assert sum(1 for _ in instance.ledger.records()) == len(single) + len(batched)
    return erase_s, many_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--one-by-one", type=int, default=2_000)
    parser.add_argument("--released-every", type=int, default=10)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-erasure-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", key_file=Path(tmp) / "keys" / "k.key")
        with published_instance(settings, NOW) as instance:
            started = time.perf_counter()
            for offset in range(0, args.people, BATCH):
                rows = [SubjectInput(email=f"person{n}@example.org", name=f"Person {n}",
                                     phone=f"+4930{n:07d}", attributes={"n": n})
                        for n in range(offset, min(args.people, offset + BATCH))]
                with instance.db.write() as session:
                    instance.subjects.create_many(session, rows, actor="bench", now=NOW)
            create_s = time.perf_counter() - started
            with instance.db.read() as session:
                ids = list(session.execute(text("SELECT id FROM subjects ORDER BY id")).scalars())
            assert len(ids) == args.people
            released = ids[::args.released_every]
            batch_id = new_id()
            with instance.db.write() as session:
                session.execute(insert(DisclosureBatch).values(
                    id=batch_id, recipient="mailer", purpose="newsletter", channel="email",
                    basis="consent", fields="id,email", notice_versions="1", actor="bench",
                    at=NOW, people=len(released)))
                session.execute(insert(Disclosure), [
                    {"batch_id": batch_id, "subject_id": sid} for sid in released])
            single, batched = ids[:args.one_by_one], ids[args.one_by_one:]
            erase_s, many_s = _erase(instance, single, batched)
            started = time.perf_counter()
            ran = Worker(instance.jobs, threads=1, lease_seconds=60).run_due()
            notify_s = time.perf_counter() - started
            with instance.db.read() as session:
                tasks = session.execute(select(func.count()).select_from(
                    RecipientTask)).scalar_one()
            assert tasks == len(released), (tasks, len(released))
            assert ran == len(released), ran
    create_rate = args.people / create_s
    erase_rate = len(single) / erase_s
    many_rate = len(batched) / many_s
    body = f"""## Erasure: {args.people:,} people, one by one and in batches \
(`python -m bench.erasure`)

SQLite, in-process, one run. Baseline: the encrypted bulk create of the same
{args.people:,} people (email, name, phone, attributes; `create_many`, batches of
{BATCH:,}). Then the first {len(single):,} people erased through `SubjectsService.erase`,
each in a transaction of their own, as a request runs it: ledger entry (fsynced), data
key and notes deleted, fields cleared, counts, audit entry, erasure hooks, purge of the
key row. The other {len(batched):,} through `SubjectsService.erase_many` (as retention and
the expired-signup job run it): per chunk of 500 one ledger transaction (fsynced) with
all its entries, one main transaction with set-based deletes, the erasure hooks'
batch variants (suppression and consents ended, copies due, notifications queued) and
one audit batch, one purge. Every
{args.released_every}th person had been released to a recipient, so their erasure also
queues the job that tells it (Art. 19); one worker ran those jobs afterwards (a task
for staff each, the recipient having no endpoint).

| what | time | people per second |
|---|---:|---:|
| baseline: bulk create | {create_s:.1f} s | {create_rate:,.0f} |
| erasure, one by one ({len(single):,}) | {erase_s:.1f} s | {erase_rate:,.0f} \
({erase_rate / create_rate:.1%} of the bulk create) |
| erasure, `erase_many` ({len(batched):,}) | {many_s:.1f} s | {many_rate:,.0f} \
({many_rate / create_rate:.0%} of the bulk create, {many_rate / erase_rate:.0f}× one by one) |
| recipients' notifications ({len(released):,} jobs) | {notify_s:.1f} s \
| {len(released) / notify_s:,.0f} |

1-minute load average when the run started: {load:.1f} (2 cores shared with other
engineers' test runs; compare rows of the same run).
"""
    write_section("erasure", body)
    print(body)


if __name__ == "__main__":
    main()
