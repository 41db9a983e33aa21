"""Declarative base and the column types every domain shares."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Bytes(LargeBinary):
    """`LargeBinary` whose values go to the driver as they are: sqlite3 stores `bytes` as a
    BLOB and psycopg sends them as bytea, so wrapping each in the driver's `Binary`
    (what `LargeBinary` does) only costs time on bulk inserts. The same column type."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None


def uuid_column_type() -> String:
    return String(36)


def new_id(*, at_ns: int | None = None) -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, the version, 74 random bits.

    Ids made later sort later, so a table's key index grows at its end instead
    of at random places: fewer pages written per commit, and rows read in id
    order sit together. The time it carries is the row's creation time, which
    every table keeps anyway.
    """
    millis = (time.time_ns() if at_ns is None else at_ns) // 1_000_000 & (1 << 48) - 1
    tail = bytearray(os.urandom(10))  # what `secrets.token_bytes` returns, sooner
    tail[0] = 0x70 | tail[0] & 0x0F  # the version (7), then 4 of rand_a's 12 bits
    tail[2] = 0x80 | tail[2] & 0x3F  # the variant (0b10), then 6 of rand_b's 62 bits
    text = (millis.to_bytes(6, "big") + tail).hex()  # str(uuid.UUID(...)) without one
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
