"""`storage.upsert`: INSERT … ON CONFLICT of the dialect at hand, built once per dialect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite

from ehrlich.storage.upsert import PerDialect, insert_of

TABLE = Table("t", MetaData(), Column("id", Integer, primary_key=True))


def test_each_dialect_gets_its_own_statement_built_once() -> None:
    built: list[str] = []

    def build(insert: Callable[[Table], Any]) -> Any:
        built.append("x")
        return insert(TABLE).on_conflict_do_nothing()

    statements = PerDialect(build)
    lite = statements["sqlite"]
    assert statements["sqlite"] is lite
    assert str(lite.compile(dialect=sqlite.dialect())).endswith("ON CONFLICT DO NOTHING")
    assert str(statements["postgresql"].compile(dialect=postgresql.dialect())).endswith(
        "ON CONFLICT DO NOTHING")
    assert len(built) == 2


def test_a_dialect_without_on_conflict_is_named() -> None:
    with pytest.raises(ValueError, match="mysql"):
        insert_of("mysql")
