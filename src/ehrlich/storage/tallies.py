"""Counts kept at write time: the overview reads a handful of rows instead of
counting a million.

A tally table has key columns, a `shard` column and a `count` column, with the
key columns and `shard` as its primary key. `add` upserts deltas in the caller's
transaction, so a count moves exactly when the rows it counts do (a rolled-back
transaction or savepoint takes its deltas with it). Readers sum over the shards.

On PostgreSQL each transaction adds to one of `SHARDS` rows per key, chosen at
random once per session, so concurrent writers seldom wait on the same row's
lock; rows are written in key order, so two writers cannot take them crosswise.
SQLite has one writer at a time and keeps one shard.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from ehrlich.storage.upsert import insert_of

SHARDS = 8
_STATEMENTS: dict[tuple[str, str], Any] = {}


def shard_of(session: Session) -> int:
    if session.get_bind().dialect.name != "postgresql":
        return 0
    shard: int = session.info.setdefault("tally_shard", random.randrange(SHARDS))  # noqa: S311
    return shard


def _upsert(table: Table, dialect: str, keys: Sequence[str]) -> Any:
    cached = _STATEMENTS.get((table.name, dialect))
    if cached is None:
        base = insert_of(dialect)(table)
        cached = base.on_conflict_do_update(
            index_elements=[*keys, "shard"],
            set_={"count": table.c["count"] + base.excluded["count"]})
        _STATEMENTS[(table.name, dialect)] = cached
    return cached


def add(session: Session, table: Table, keys: Sequence[str],
        deltas: Mapping[tuple[Any, ...], int]) -> None:
    """Add each delta to the count of its key (a tuple in the order of `keys`)."""
    shard = shard_of(session)
    rows = [{**dict(zip(keys, key, strict=True)), "shard": shard, "count": n}
            for key, n in sorted(deltas.items()) if n]
    if rows:
        dialect = session.get_bind().dialect.name
        session.connection().execute(_upsert(table, dialect, keys), rows)
