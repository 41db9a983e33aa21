"""The unit of work on SQLite: writers take the lock up front, readers never do,
savepoints roll back alone, and a failure leaves the previous state."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from ehrlich.storage.database import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'unit.db'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    yield database
    database.dispose()


def _other_writer_blocked(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    else:
        other.execute("ROLLBACK")
        return False
    finally:
        other.close()


def test_a_write_holds_the_lock_before_its_first_statement(db: Database,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "unit.db"
    with db.write() as session:
        session.connection()  # nothing executed yet
        assert _other_writer_blocked(path)
    assert not _other_writer_blocked(path)
    with db.read() as session:
        session.execute(text("SELECT count(*) FROM t")).scalar_one()
        assert not _other_writer_blocked(path)


def _insert_then_fail(db: Database, *, statements: bool = False) -> None:
    with db.write_statements() if statements else db.write() as unit:
        unit.execute(text("INSERT INTO t (v) VALUES ('lost')"))
        raise RuntimeError("crash")


def test_a_statement_write_holds_the_lock_and_rolls_back_alone(db: Database,
                                                              tmp_path: Path) -> None:
    """`write_statements`, the Session-free write: the same lock up front, a commit at
    the end, nothing left of a failed one."""
    path = tmp_path / "unit.db"
    with db.write_statements() as conn:
        assert _other_writer_blocked(path)
        conn.execute(text("INSERT INTO t (v) VALUES ('kept')"))
    assert not _other_writer_blocked(path)
    with pytest.raises(RuntimeError):
        _insert_then_fail(db, statements=True)
    assert not _other_writer_blocked(path)
    with db.read() as session:
        assert session.execute(text("SELECT v FROM t")).scalars().all() == ["kept"]


def test_a_read_sees_one_snapshot(db: Database, tmp_path: Path) -> None:
    with db.read() as session:
        before = session.execute(text("SELECT count(*) FROM t")).scalar_one()
        other = sqlite3.connect(tmp_path / "unit.db", isolation_level=None)
        other.execute("INSERT INTO t (v) VALUES ('late')")
        other.close()
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == before
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == before + 1


def _savepoint_then_fail(session: Session) -> None:
    with session.begin_nested():
        session.execute(text("INSERT INTO t (v) VALUES ('undone')"))
        raise RuntimeError("inner")


def test_failures_roll_back_the_transaction_and_savepoints_alone(db: Database) -> None:
    with pytest.raises(RuntimeError):
        _insert_then_fail(db)
    with db.write() as session:
        session.execute(text("INSERT INTO t (v) VALUES ('kept')"))
        with pytest.raises(RuntimeError):
            _savepoint_then_fail(session)
    with db.read() as session:
        assert session.execute(text("SELECT v FROM t")).scalars().all() == ["kept"]


def test_writers_of_one_process_queue_without_errors(db: Database) -> None:
    def write(n: int) -> None:
        for i in range(20):
            # Session and Session-free writers alike: each reads the count it writes after.
            with (db.write() if n % 2 else db.write_statements()) as unit:
                count = unit.execute(text("SELECT count(*) FROM t")).scalar_one()
                unit.execute(text("INSERT INTO t (k, v) VALUES (:k, :v)"),
                             {"k": count + 1, "v": f"{n}-{i}"})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 120


@given(st.integers(min_value=0, max_value=2**48 - 1), st.integers(min_value=1, max_value=10**6))
def test_ids_are_uuid7_and_later_ones_sort_later(millis: int, step: int) -> None:
    from ehrlich.storage.base import new_id

    first = new_id(at_ns=millis * 1_000_000)
    later = min(millis + step, 2**48 - 1)
    second = new_id(at_ns=later * 1_000_000)
    parsed = uuid.UUID(first)
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert parsed.int >> 80 == millis
    assert str(parsed) == first  # canonical lowercase form, 36 characters
    if later > millis:
        assert first < second
