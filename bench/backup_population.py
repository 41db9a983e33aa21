"""A cached instance with 1,000,000 subjects for the backup benchmark."""

from __future__ import annotations

import sys
from pathlib import Path

from bench import population
from ehrlich.settings import Settings
from ehrlich.subjects.schemas import SubjectInput

WORK = Path(__file__).parent / ".work" / "backup"


def bench_settings(work: Path = WORK) -> Settings:
    return population.bench_settings(work)


def _subjects(numbers: range) -> list[SubjectInput]:
    return [SubjectInput(email=f"person{n}@example.org", name=f"Person {n}",
                         phone=f"+4930{n:08d}", source="bench") for n in numbers]


def populate(count: int, work: Path = WORK) -> Settings:
    """Create (once) an instance holding `count` subjects; later runs reuse it."""
    return population.populate(work, count, _subjects)


if __name__ == "__main__":
    populate(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
