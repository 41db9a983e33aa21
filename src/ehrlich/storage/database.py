"""Engine and unit of work.

`Database.write()` opens a transaction that takes the write lock up front on
SQLite (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing
half-way; `Database.read()` opens a plain one. Both commit on success and roll
back on any exception, leaving the previous state intact.
`Database.write_statements()` is the same write on a Connection without a
Session, for hot paths of a few Core statements; `Database.first()` is the hot
read of one statement, on the event loop where SQLite lets it start at once.

SQLite has one writer at a time. Writers of one process queue on a lock of
their own before `BEGIN IMMEDIATE`: SQLite's busy handler polls with sleeps of
up to 100 ms, so a writer that waits there sleeps on after the lock is free,
while a waiter on the in-process lock is woken at once. Other processes still
queue on the busy timeout.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from anyio import to_thread
from sqlalchemy import Connection, Engine, Executable, Row, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import NullPool

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA secure_delete=ON",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
)
# A connection for every worker thread that may hold one, so none is opened and
# closed per request (each opening runs the pragmas above).
SQLITE_POOL = {"pool_size": 20, "max_overflow": 20}
PG_POOL = {"pool_size": 10, "max_overflow": 5, "pool_recycle": 1800}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below, not the driver, start transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.connection.dbapi_connection.execute("BEGIN")


def _session_engine(engine: Engine) -> Engine:
    """The engine sessions run on: the same pool, but no connection events.

    With any connection event, SQLAlchemy dispatches events around every
    statement; the sessions start their transactions from a session event
    instead (`_begin_session`), and `Database.engine` keeps the connection
    event for the migrations and backups that use it directly.
    """
    return create_engine(engine.url, pool=engine.pool)


def _begin_session(session: Session, transaction: SessionTransaction, conn: Connection
                   ) -> None:
    if not transaction.nested:  # a savepoint is SQLAlchemy's own business
        conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
            f"BEGIN {session.info['sqlite_begin']}")


def _in_memory(url: str) -> bool:
    return ":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite:/")


def _is_busy(exc: OperationalError) -> bool:
    """SQLite's SQLITE_BUSY ("database is locked", or an extended code such as a WAL
    recovery in progress): another connection holds the lock."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class LoopReaders:
    """Read-only SQLite connections that never wait, one per thread that reads with
    `Database.first` (a process's event loop; a test may run several).

    `timeout=0`: SQLite answers busy at once instead of sleeping in its busy handler, so a
    read on the event loop never stalls every other request behind a lock (a checkpoint
    that truncates the WAL, a restore). `query_only`: nothing is written here, ever. Each
    stays open while the `Database` does (a thread id reused later reuses its connection).
    """

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url, poolclass=NullPool,
                                     connect_args={"check_same_thread": False, "timeout": 0})

        @event.listens_for(self._engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # autocommit: each read its own snapshot
            dbapi_connection.execute("PRAGMA query_only=ON")

        self._by_thread: dict[int, Connection] = {}
        self._lock = threading.Lock()

    def first(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        conn = self._by_thread.get(threading.get_ident())
        if conn is None:
            conn = self._engine.connect()
            with self._lock:
                self._by_thread[threading.get_ident()] = conn
        try:
            return conn.execute(statement, params).first()
        finally:
            conn.rollback()  # ends SQLAlchemy's own transaction; SQLite's ended with the read

    def close(self) -> None:
        with self._lock:
            opened, self._by_thread = list(self._by_thread.values()), {}
        for conn in opened:
            conn.close()
        self._engine.dispose()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        if not _in_memory(url):
            for key, value in SQLITE_POOL.items():
                kwargs.setdefault(key, value)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No ping at checkout (a round trip per transaction): connections are recycled after
    # `PG_POOL["pool_recycle"]` seconds instead, and one that broke meanwhile fails its
    # transaction once and is replaced. Instances size the pool from their settings
    # (`Settings.database_pool`).
    for key, value in PG_POOL.items():
        kwargs.setdefault(key, value)
    return create_engine(url, **kwargs)


class Database:
    """One engine and its units of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        sessions = _session_engine(self.engine) if self.is_sqlite else self.engine
        self._statements = sessions
        self._reader = sessionmaker(sessions, expire_on_commit=False,
                                    info={"sqlite_begin": "DEFERRED"})
        self._writer = sessionmaker(sessions, expire_on_commit=False,
                                    info={"sqlite_begin": "IMMEDIATE"})
        if self.is_sqlite:
            for maker in (self._reader, self._writer):
                event.listen(maker, "after_begin", _begin_session)
        # Re-entrant: a nested write in one thread behaves as it would without it.
        self._write_queue: AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else nullcontext())
        self._loop_readers = (LoopReaders(url) if self.is_sqlite and not _in_memory(url)
                              else None)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    async def first(self, statement: Executable, params: Mapping[str, Any]
                    ) -> Row[Any] | None:
        """The first row of one read-only statement, without a Session, for hot reads of
        one statement from the event loop (the consent check): the statement is its own
        snapshot (SQLite autocommit; PostgreSQL rolls back when the connection returns to
        the pool).

        On SQLite it runs on the event loop, on a connection of the loop's own that never
        waits (`LoopReaders`): a read by index takes microseconds, and a hop to a worker
        thread costs far more under load, the loop and the worker trading the GIL for
        every request (the consent check under 8 clients: 1,090 µs of server CPU a
        request with the hop, about 500 µs without). A read SQLite cannot start at once goes to
        the thread pool, where pooled connections wait on the busy timeout as every reader
        does: the event loop never waits on a lock. On PostgreSQL, a network round trip,
        the read always goes to the thread pool.
        """
        if self._loop_readers is not None:
            try:
                return self._loop_readers.first(statement, params)
            except OperationalError as exc:
                if not _is_busy(exc):
                    raise
        return await to_thread.run_sync(self._first_pooled, statement, params)

    def _first_pooled(self, statement: Executable, params: Mapping[str, Any]
                      ) -> Row[Any] | None:
        with self._statements.connect() as conn:
            return conn.execute(statement, params).first()

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write_queue, self._writer() as session, session.begin():
            yield session

    @contextmanager
    def write_statements(self) -> Iterator[Connection]:
        """A write transaction on a pooled connection without a Session, for hot paths of
        a few Core statements (a campaign's hand-overs, many a second), where the
        Session's set-up and commit cost more than the statements. Serialised with
        `write` as every write is."""
        with self._write_queue, self._statements.connect() as conn, conn.begin():
            if self.is_sqlite:
                conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                    "BEGIN IMMEDIATE")
            yield conn

    def purge_deleted_rows(self, table: str) -> None:
        """Best effort to remove deleted rows physically, after their transaction.

        SQLite (secure_delete=ON) zeroes freed content; the checkpoint copies the
        pages back and truncates the WAL, which still held the older page images.
        PostgreSQL's VACUUM reclaims the dead tuples of `table`.
        """
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    f'VACUUM "{table}"')

    def analyze(self, tables: Sequence[str] = ()) -> None:
        """Fresh planner statistics after bulk work (an import, a restore), in their own
        transaction: without them PostgreSQL may pick a poor index for a table that grew
        by a hundred thousand rows. PostgreSQL analyses `tables` (all when empty); SQLite
        runs `PRAGMA optimize`, which analyses the tables whose statistics are stale."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("PRAGMA optimize")
                return
            names = ", ".join(f'"{table}"' for table in tables)
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                f"ANALYZE {names}".rstrip())

    def dispose(self) -> None:
        if self._loop_readers is not None:
            self._loop_readers.close()
        self.engine.dispose()
