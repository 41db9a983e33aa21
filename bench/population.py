"""The one way the benchmarks build a large population: an instance initialised once in a
work folder, filled with subjects through `SubjectsService.create_many` (encrypted, as
the product stores them) in batches, then marked done so later runs reuse it.

A benchmark says which rows to create and, where it needs them, what to add in each
batch's transaction (consent rows for the created subjects) or once at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance, init_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings
from ehrlich.storage import migrate
from ehrlich.subjects.schemas import BulkOutcome, SubjectInput

BATCH = 5000
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

Rows = Callable[[range], Sequence[SubjectInput]]
"""The subjects numbered `numbers` (a batch of at most BATCH)."""
InBatch = Callable[[Session, range, BulkOutcome], None]
"""Runs in a batch's write transaction, after its subjects were created."""


def bench_settings(work: Path, key_name: str = "ehrlich.key") -> Settings:
    return Settings(data_dir=work / "data", key_file=work / "keys" / key_name)


@contextmanager
def published_instance(settings: Settings, now: datetime = NOW) -> Iterator[Instance]:
    """A new instance in `settings`' folders, migrated, with the example notice published;
    closed after."""
    init_instance(settings, now=now)
    instance = open_instance(settings, check_schema=False)
    try:
        migrate.upgrade(instance.db)
        with instance.db.write() as session:
            instance.notices.publish(session, example_notice_text(), file="notice.yaml",
                                     publisher="bench", now=now)
        yield instance
    finally:
        instance.close()


def populate(work: Path, count: int, rows: Rows, *, key_name: str = "ehrlich.key",
             now: datetime = NOW, created_at: Callable[[int], datetime] | None = None,
             in_batch: InBatch | None = None,
             finish: Callable[[Instance], None] | None = None) -> Settings:
    """Create (once) an instance in `work` holding `count` subjects; later runs reuse it.

    A run that stopped half-way goes on from the subjects it made. Subjects are created
    at `now`, or at `created_at(offset)` per batch (to spread signups over time);
    `finish` runs once when all are made.
    """
    settings = bench_settings(work, key_name)
    marker = work / f"populated-{count}"
    if marker.exists():
        return settings
    if not (settings.data_dir / "ehrlich.toml").exists():
        init_instance(settings, now=now)
    instance = open_instance(settings, check_schema=False)
    try:
        migrate.upgrade(instance.db)
        with instance.db.read() as session:
            have = int(session.connection().exec_driver_sql(
                "SELECT count(*) FROM subjects").scalar() or 0)
        started = time.perf_counter()
        for offset in range(have, count, BATCH):
            numbers = range(offset, min(count, offset + BATCH))
            with instance.db.write() as session:
                made = instance.subjects.create_many(session, rows(numbers), actor="bench",
                                                     now=created_at(offset) if created_at else now)
                if in_batch is not None:
                    in_batch(session, numbers, made)
            if numbers.stop % 100_000 == 0:
                rate = (numbers.stop - have) / (time.perf_counter() - started)
                print(f"  {numbers.stop:,} subjects ({rate:,.0f}/s)", file=sys.stderr,
                      flush=True)
        if finish is not None:
            finish(instance)
    finally:
        instance.close()
    marker.touch()
    return settings
