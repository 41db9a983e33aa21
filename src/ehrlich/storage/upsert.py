"""INSERT … ON CONFLICT for the database at hand, SQLite's or PostgreSQL's.

SQLAlchemy spells it per dialect (`sqlalchemy.dialects.sqlite.insert` and
`sqlalchemy.dialects.postgresql.insert`). The dialect's module is imported when a
statement is first built for it, so a SQLite instance, the default, never loads the
PostgreSQL dialect (2.4 MiB of a web process), and each statement is still built
once per dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import Table

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

    DialectInsert = PostgresInsert | SqliteInsert

Built = TypeVar("Built")


def insert_of(dialect: str) -> Callable[[Table], DialectInsert]:
    """The `insert` of `dialect` ("sqlite" or "postgresql"), which knows ON CONFLICT."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise ValueError(f"no INSERT … ON CONFLICT for the {dialect} dialect")


class PerDialect(Generic[Built]):
    """A statement built on first use for each dialect: `statements[conn.dialect.name]`."""

    def __init__(self, build: Callable[[Callable[[Table], DialectInsert]], Built]) -> None:
        self._build = build
        self._built: dict[str, Built] = {}

    def __getitem__(self, dialect: str) -> Built:
        found = self._built.get(dialect)
        if found is None:  # two threads may both build it: the same statement either way
            found = self._built[dialect] = self._build(insert_of(dialect))
        return found
