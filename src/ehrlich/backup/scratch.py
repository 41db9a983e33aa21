"""Loading a dump into a database: a throw-away scratch one, or a restore target."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from ehrlich.backup import snapshot
from ehrlich.backup.errors import BackupDamaged
from ehrlich.backup.reading import OpenedBackup


@contextmanager
def scratch_database(opened: OpenedBackup, *, server_url: str) -> Iterator[Engine]:
    """The backup loaded into a database that is dropped afterwards.

    SQLite: the dump file itself, in the private work directory (removed with
    it). PostgreSQL: a new database on the server of `server_url` (its user
    needs CREATEDB), dropped at the end.
    """
    if opened.member == snapshot.SQLITE_MEMBER:
        conn = snapshot.sqlite_open_dump(opened.dump.path)
        engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
        try:
            yield engine
        finally:
            engine.dispose()
            conn.close()
        return
    name = f"ehrlich_verify_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as admin_conn:
            major = snapshot.pg_major(admin_conn)
            admin_conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url)
        try:
            snapshot.pg_restore(url, opened.dump, server_major=major, clean=False)
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as admin_conn:
                admin_conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def counts_of(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            return snapshot.sqlite_counts(raw)
        return snapshot.pg_counts(conn)


def check_counts(opened: OpenedBackup, counts: dict[str, int]) -> None:
    expected = opened.manifest.row_counts
    if counts != expected:
        wrong = sorted(t for t in set(counts) | set(expected)
                       if counts.get(t) != expected.get(t))
        detail = ", ".join(f"{t}: {counts.get(t)} restored, {expected.get(t)} in manifest"
                           for t in wrong[:5])
        raise BackupDamaged(f"backup {opened.manifest.backup_id}: row counts differ ({detail})")


def in_session(engine: Engine, work: Callable[[Session], int]) -> int:
    with Session(engine) as session, session.begin():
        return work(session)
