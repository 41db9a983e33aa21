"""`insert_many` stores what SQLAlchemy's executemany of the same Core insert stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ehrlich.storage.base import Bytes, UTCDateTime
from ehrlich.storage.bulk_insert import insert_many

BERLIN_SUMMER = timezone(timedelta(hours=2))



def _tables(metadata: MetaData) -> list[Table]:
    return [Table(name, metadata,
                  Column("id", String(36), primary_key=True),
                  Column("at", UTCDateTime()), Column("label", String(50)),
                  Column("blob", LargeBinary, nullable=True), Column("raw", Bytes(32)),
                  Column("number", Integer, nullable=True), Column("flag", Boolean),
                  Column("words", Text, nullable=True),
                  Column("note", String(20), default="x"))
            for name in ("via_sqlalchemy", "via_insert_many")]


def _rows(now: datetime) -> list[dict[str, object]]:
    later = now + timedelta(seconds=1)
    return [{"id": f"r{i}", "at": now if i % 3 else later.astimezone(BERLIN_SUMMER),
             "label": "shared", "blob": None if i % 2 else b"\x00\xff" * i,
             "raw": bytes([i]) * 32, "number": i if i % 4 else None, "flag": i % 2 == 0,
             "words": TRICKY[i % len(TRICKY)], "note": "n"} for i in range(50)]


TRICKY = ["tab\there", "line\nbreak\r\n", "back\\slash", "\\N", "", None, "Müller 🙂",
          "quote ' and \" and ,;", "\\.", "end of copy\n\\.\n"]
"""Text that COPY's text format must escape: its separators, its NULL marker `\\N`, its
end marker `\\.`, backslashes."""


def test_insert_many_stores_what_sqlalchemy_stores(engine: Engine) -> None:
    metadata = MetaData()
    plain, fast = _tables(metadata)
    metadata.create_all(engine)
    rows = _rows(datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC))
    with engine.begin() as connection:
        connection.execute(insert(plain), rows)
        insert_many(connection, fast, rows)
        insert_many(connection, fast, [])
    with engine.connect() as connection:
        # as the database holds them, not as SQLAlchemy reads them back
        stored = [connection.exec_driver_sql(
            f"SELECT * FROM {t.name} ORDER BY id").all()  # noqa: S608 (the test's own tables)
            for t in (plain, fast)]
        assert stored[0] == stored[1]
        assert len(stored[1]) == 50
        typed = [connection.execute(t.select().order_by(t.c.id)).all() for t in (plain, fast)]
        assert typed[0] == typed[1]
        assert connection.execute(text("SELECT count(*) FROM via_insert_many WHERE label = "
                                       "'shared'")).scalar_one() == 50


def test_rows_must_name_the_same_columns_and_every_defaulted_one(engine: Engine) -> None:
    metadata = MetaData()
    _, fast = _tables(metadata)
    metadata.create_all(engine)
    now = datetime.now(UTC)
    row = _rows(now)[0]
    with engine.begin() as connection:
        with pytest.raises(ValueError, match="columns it fills"):
            insert_many(connection, fast, [{k: v for k, v in row.items() if k != "note"}])
        with pytest.raises(ValueError, match="different columns"):
            insert_many(connection, fast, [row, {**row, "id": "other", "extra": 1}])
        with pytest.raises(ValueError, match="different columns"):
            insert_many(connection, fast, [row, {k: v for k, v in row.items()
                                                 if k != "label"}])


def test_a_duplicate_key_fails_as_an_insert_would_and_keeps_nothing(engine: Engine) -> None:
    metadata = MetaData()
    _, fast = _tables(metadata)
    metadata.create_all(engine)
    rows = _rows(datetime.now(UTC))
    with engine.begin() as connection:
        insert_many(connection, fast, rows[:10])
    with engine.connect() as connection:
        transaction = connection.begin()
        insert_many(connection, fast, rows[10:20])
        with pytest.raises(IntegrityError):
            insert_many(connection, fast, [rows[20], rows[3]])  # r3 is there already
        transaction.rollback()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM via_insert_many")
                                  ).scalar_one() == 10
