"""`storage.keys.KeysIn` finds what `column IN (…)` finds, on both databases: a blob of
keys cut by the database, with zero bytes and backslashes among them, and none at all."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, select
from sqlalchemy.engine import Engine

from ehrlich.storage.keys import KeysIn


def test_the_keys_found_are_those_in_the_table(engine: Engine) -> None:
    metadata = MetaData()
    table = Table("keyed", metadata, Column("id", Integer, primary_key=True),
                  Column("key", LargeBinary(32), unique=True))
    metadata.create_all(engine)
    chance = random.Random(15)
    stored = [chance.randbytes(32) for _ in range(300)]
    # zero bytes and backslashes, which a text encoding of the blob would have to escape
    stored += [b"\x00" * 32, b"\\" * 32, b"\x00" * 31 + b"\x01"]
    absent = [chance.randbytes(32) for _ in range(200)] + [b"\x00" * 31 + b"\x02"]
    keys = KeysIn(table.c.key)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"key": k} for k in stored])
        dialect = conn.dialect.name
        statement = select(table.c.key).where(keys.clause(dialect))
        for wanted in ([], stored[:1], chance.sample(stored, 150) + absent, absent):
            found = set(conn.execute(statement, keys.params(wanted)).scalars())
            assert found == set(wanted) & set(stored)


def test_keys_of_another_length_are_refused() -> None:
    keys = KeysIn(Table("k", MetaData(), Column("key", LargeBinary(32))).c.key)
    with pytest.raises(ValueError, match="32 bytes"):
        keys.params([b"short"])
    with pytest.raises(ValueError, match="no fixed length"):
        KeysIn(Table("n", MetaData(), Column("key", LargeBinary)).c.key)
