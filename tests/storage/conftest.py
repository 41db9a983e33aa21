"""A bare engine on the test's database (SQLite or PostgreSQL), for tests of the
storage helpers on tables of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    (tmp_path / "data").mkdir(exist_ok=True)
    made = create_engine(database_url)
    yield made
    made.dispose()
