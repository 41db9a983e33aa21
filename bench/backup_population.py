"""A cached instance with 1,000,000 subjects for the backup benchmark."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.settings import Settings
from ehrlich.storage import migrate
from ehrlich.subjects.schemas import SubjectInput

WORK = Path(__file__).parent / ".work" / "backup"
BATCH = 5000
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def bench_settings(work: Path = WORK) -> Settings:
    return Settings(data_dir=work / "data", key_file=work / "keys" / "ehrlich.key")


def populate(count: int, work: Path = WORK) -> Settings:
    """Create (once) an instance holding `count` subjects; later runs reuse it."""
    settings = bench_settings(work)
    done_marker = work / f"populated-{count}"
    if done_marker.exists():
        return settings
    if not (settings.data_dir / "ehrlich.toml").exists():
        init_instance(settings, now=NOW)
    instance = open_instance(settings, check_schema=False)
    try:
        migrate.upgrade(instance.db)
        with instance.db.read() as session:
            have = session.connection().exec_driver_sql("SELECT count(*) FROM subjects").scalar()
        start = time.perf_counter()
        for offset in range(int(have or 0), count, BATCH):
            rows = [SubjectInput(email=f"person{n}@example.org", name=f"Person {n}",
                                 phone=f"+4930{n:08d}", source="bench")
                    for n in range(offset, min(count, offset + BATCH))]
            with instance.db.write() as session:
                instance.subjects.create_many(session, rows, actor="bench", now=NOW)
            done = offset + len(rows)
            if done % 50_000 == 0:
                rate = (done - (have or 0)) / (time.perf_counter() - start)
                print(f"{done} subjects ({rate:.0f}/s)", file=sys.stderr, flush=True)
    finally:
        instance.close()
    done_marker.touch()
    return settings


if __name__ == "__main__":
    populate(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
