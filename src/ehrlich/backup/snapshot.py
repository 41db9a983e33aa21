"""Consistent snapshots of the database, and loading them back.

SQLite: the online backup API copies the database, in one step and so under
one read transaction, into an in-memory database while the server goes on
writing (WAL mode lets writers continue); its serialised bytes are the dump.
PostgreSQL: a REPEATABLE READ transaction exports its snapshot, the row
counts are taken in it and `pg_dump -Fc --snapshot` dumps exactly that state.
Nothing is written to disk in plaintext.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url

from ehrlich.backup.errors import BackupDamaged
from ehrlich.errors import ConfigurationError

SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"


@dataclass(frozen=True)
class Snapshot:
    member: str
    data: bytes
    row_counts: dict[str, int]
    revisions: list[str]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    # Table names come from the database's own catalogue and are quoted.
    return {t: int(conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0])  # noqa: S608
            for t in sorted(tables)}


def _revisions(conn: sqlite3.Connection) -> list[str]:
    return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))


def sqlite_snapshot(engine: Engine) -> Snapshot:
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        memory = sqlite3.connect(":memory:")
        try:
            source.backup(memory)
            return Snapshot(SQLITE_MEMBER, memory.serialize(), sqlite_counts(memory),
                            _revisions(memory))
        finally:
            memory.close()
    finally:
        raw.close()


def sqlite_from_dump(data: memoryview) -> sqlite3.Connection:
    """An in-memory database holding the dump (the scratch database of a verify)."""
    if bytes(data[:16]) != b"SQLite format 3\x00":
        raise BackupDamaged(f"{SQLITE_MEMBER} is not an SQLite database")
    # The source ran in WAL mode, which a memory database cannot: mark it rollback
    # (header bytes 18-19). In place when the buffer allows, which saves a copy.
    image = bytearray(data) if data.readonly else data
    image[18:20] = b"\x01\x01"
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        conn.deserialize(image)
        conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise BackupDamaged(f"{SQLITE_MEMBER} is damaged: {exc}") from exc
    return conn


def sqlite_restore(source: sqlite3.Connection, target: Path) -> None:
    """Copy the restored database over `target` with the backup API (safe with readers)."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    dest = sqlite3.connect(target)
    try:
        dest.execute("PRAGMA busy_timeout=30000")
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=WAL")
    finally:
        dest.close()


# -- PostgreSQL ---------------------------------------------------------------------


def _pg_env(url: str) -> tuple[dict[str, str], str]:
    """libpq environment for `url` (the password never appears in argv) and the db name."""
    u = make_url(url)
    env = {**os.environ, "PGHOST": u.host or "localhost", "PGPORT": str(u.port or 5432),
           "PGUSER": u.username or "", "PGDATABASE": u.database or ""}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return env, u.database or ""


def pg_tool(name: str, server_major: int) -> str:
    """The client tool of the server's major version when installed side by side."""
    versioned = Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")
    if versioned.exists():
        return str(versioned)
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(f"{name} is not installed; install the PostgreSQL client "
                                 f"{server_major} (Debian: postgresql-client-{server_major})")
    return found


def pg_counts(conn: Connection) -> dict[str, int]:
    tables = inspect(conn).get_table_names()
    query = "SELECT count(*) FROM {}"  # names from the catalogue, quoted
    return {t: int(conn.execute(text(query.format(_quote(t)))).scalar_one())
            for t in sorted(tables)}


def pg_major(conn: Connection) -> int:
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def pg_snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as plain:
        conn = plain.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = pg_counts(conn)
            revisions = sorted(conn.execute(
                text("SELECT version_num FROM alembic_version")).scalars())
            env, _ = _pg_env(engine.url.render_as_string(hide_password=False))
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [pg_tool("pg_dump", pg_major(conn)), "--format=custom", "--compress=0",
                 f"--snapshot={snapshot_id}", "--no-owner", "--no-privileges"],
                env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise ConfigurationError(f"pg_dump failed: {done.stderr.decode(errors='replace')}")
    return Snapshot(POSTGRES_MEMBER, done.stdout, counts, revisions)


def pg_restore(url: str, dump: memoryview, *, server_major: int, clean: bool) -> None:
    env, _ = _pg_env(url)
    args = [pg_tool("pg_restore", server_major), "--no-owner", "--no-privileges",
            "--exit-on-error", "--single-transaction", f"--dbname={env['PGDATABASE']}"]
    if clean:
        args += ["--clean", "--if-exists"]
    done = subprocess.run(args, env=env, input=dump,  # noqa: S603 - fixed argv, no shell
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise BackupDamaged(f"pg_restore failed: {done.stderr.decode(errors='replace')}")
