"""The unit of work on SQLite: writers take the lock up front, readers never do,
savepoints roll back alone, and a failure leaves the previous state. The hot read of one
statement (`Database.first`): on SQLite on the event loop, never waiting there; on either
database it sees each commit at once."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from anyio import to_thread
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ehrlich.instance.service import Instance
from ehrlich.storage.database import Database
from ehrlich.subjects.schemas import SubjectInput


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


# `Database.first`: the hot read of one statement, on the event loop where SQLite lets it.

def _exclusive_holder(path: Path) -> sqlite3.Connection:
    """A connection holding SQLite's lock until it is closed: no other may read meanwhile
    (the state a WAL recovery or a restore leaves readers in, made on purpose)."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("COMMIT")  # the lock stays with the connection in exclusive mode
    return holder


def test_a_hot_read_needs_no_worker_thread(db: Database) -> None:
    """With every worker thread taken (slow writes, say), the read still answers."""
    with db.write() as session:
        session.execute(text("INSERT INTO t (v) VALUES ('kept')"))

    async def read_with_every_worker_busy() -> object:
        limiter = to_thread.current_default_thread_limiter()
        limiter.total_tokens = 1
        async with limiter:
            with anyio.fail_after(20):
                row = await db.first(text("SELECT v FROM t"), {})
        return row.v if row else None

    assert anyio.run(read_with_every_worker_busy) == "kept"


def test_a_hot_read_sees_each_commit_at_once(db: Database) -> None:
    """The loop's own connection keeps no snapshot between reads: a withdrawal committed
    anywhere is what the next consent check sees."""
    count = text("SELECT count(*) AS n FROM t")

    async def before_and_after_a_commit() -> tuple[int, int]:
        before = await db.first(count, {})
        with db.write() as session:
            session.execute(text("INSERT INTO t (v) VALUES ('new')"))
        after = await db.first(count, {})
        assert before is not None
        assert after is not None
        return before.n, after.n

    assert anyio.run(before_and_after_a_commit) == (0, 1)


def test_a_hot_read_writes_nothing(db: Database) -> None:
    async def write_through_the_read() -> None:
        await db.first(text("INSERT INTO t (v) VALUES ('sneaked') RETURNING k"), {})

    with pytest.raises(OperationalError, match="readonly"):
        anyio.run(write_through_the_read)
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0


def test_a_hot_read_waits_for_a_lock_off_the_event_loop(db: Database,
                                                        tmp_path: Path) -> None:
    """A read SQLite cannot start at once waits in a worker thread; the event loop goes on
    serving meanwhile, and the read answers once the lock is free."""
    with db.write() as session:
        session.execute(text("INSERT INTO t (v) VALUES ('kept')"))
    db.dispose()  # no connection of ours open, so the holder can take the lock
    holder = _exclusive_holder(tmp_path / "unit.db")
    loop_went_on = threading.Event()
    seen: list[bool] = []

    def release_once_the_loop_went_on() -> None:
        seen.append(loop_went_on.wait(timeout=20))  # a stuck loop never sets it
        holder.close()

    async def read_while_locked() -> object:
        reading = asyncio.ensure_future(db.first(text("SELECT v FROM t"), {}))
        await asyncio.sleep(0.2)  # the read has started and found the lock
        assert not reading.done()
        loop_went_on.set()
        row = await reading
        return row.v if row else None

    releaser = threading.Thread(target=release_once_the_loop_went_on)
    releaser.start()
    try:
        assert asyncio.run(read_while_locked()) == "kept"
    finally:
        releaser.join()
    assert seen == [True]


def test_closing_the_database_closes_the_loop_connections(db: Database,
                                                          tmp_path: Path) -> None:
    anyio.run(db.first, text("SELECT count(*) FROM t"), {})
    db.dispose()
    _exclusive_holder(tmp_path / "unit.db").close()  # would be refused by an open reader


def test_a_hot_read_on_either_database_sees_each_commit_at_once(instance: Instance) -> None:
    """SQLite reads on the loop, PostgreSQL in the thread pool: the same answers."""
    count = text("SELECT count(*) AS n FROM subjects")

    async def before_and_after_a_commit() -> tuple[int, int]:
        before = await instance.db.first(count, {})
        with instance.db.write() as session:
            instance.subjects.create(session, SubjectInput(email="ada@example.org"),
                                     actor="test", now=datetime.now(UTC))
        after = await instance.db.first(count, {})
        assert before is not None
        assert after is not None
        return before.n, after.n

    before, after = anyio.run(before_and_after_a_commit)
    assert after == before + 1


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
