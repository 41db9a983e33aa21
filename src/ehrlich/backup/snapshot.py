"""Consistent snapshots of the database, and loading them back, in bounded memory.

SQLite: the online backup API copies the database in one step, and so
under one read transaction (WAL mode lets writers go on; a page-wise copy
would restart at every write and might never finish), into a file in the
private work directory inside the data directory. Memory stays at SQLite's
page cache whatever the database size. That copy is no more exposed than
the live database file beside it (same directory, same owner, personal
fields encrypted by the application, keys outside the data directory); it
lives only until it is packed, and a killed run's copy (`.partial-*`) is
removed at the next start. See docs/backup.md.
PostgreSQL: a REPEATABLE READ transaction exports its snapshot, the row
counts are taken in it and `pg_dump -Fc --snapshot` dumps exactly that
state, piped into a sealed spool (encrypted under a key held only in
memory), never into memory or plaintext on disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url

from ehrlich.backup.errors import BackupDamaged
from ehrlich.crypto.spool import SealedSpool
from ehrlich.errors import ConfigurationError
from ehrlich.storage.libpq import libpq_uri

SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
TEMP_PREFIX = ".partial-"
_COPY = 1024 * 1024


@dataclass(frozen=True)
class Dump:
    """A dump waiting on disk: a database file (SQLite) or a sealed spool (pg_dump)."""

    member: str
    size: int
    path: Path
    spool: SealedSpool | None = None

    @contextlib.contextmanager
    def reader(self) -> Iterator[BinaryIO]:
        if self.spool is not None:
            with self.spool.reader() as fh:
                yield fh
        else:
            with self.path.open("rb", buffering=_COPY) as fh:
                yield fh


@dataclass(frozen=True)
class Snapshot:
    dump: Dump
    row_counts: dict[str, int]
    revisions: list[str]


def work_path(work_dir: Path, name: str) -> Path:
    """A temporary file's path in the private work directory (0700), named for cleanup."""
    work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    work_dir.chmod(0o700)
    return work_dir / f"{TEMP_PREFIX}{os.getpid()}-{name}"


def work_directory(data_dir: Path) -> Path:
    """Where snapshots and dumps wait between the database and the archive (0700)."""
    return data_dir / "backup-work"


def discard_partials(work_dir: Path) -> int:
    """Remove files that killed runs on this host left in the work directory."""
    from ehrlich.backup.stores.stale import pid_is_gone

    if not work_dir.is_dir():
        return 0
    stale = [p for p in work_dir.iterdir()
             if p.name.startswith(TEMP_PREFIX) and pid_is_gone(p.name)]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def remove_sqlite(path: Path) -> None:
    for extra in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


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


@contextlib.contextmanager
def sqlite_snapshot(engine: Engine, work_dir: Path, name: str) -> Iterator[Snapshot]:
    path = work_path(work_dir, name + ".sqlite3")
    try:
        raw = engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            copy = sqlite3.connect(path)  # SQLite keeps the file's mode for its journal
            try:
                source.backup(copy)  # one step: one read transaction, file-backed target
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                counts, revisions = sqlite_counts(copy), _revisions(copy)
            finally:
                copy.close()
        finally:
            raw.close()
        yield Snapshot(Dump(SQLITE_MEMBER, path.stat().st_size, path), counts, revisions)
    finally:
        remove_sqlite(path)


def sqlite_open_dump(path: Path) -> sqlite3.Connection:
    """The dump file opened as a database after a quick check (the scratch database)."""
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupDamaged(f"{SQLITE_MEMBER} is not an SQLite database")
    conn = sqlite3.connect(path, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
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


def pg_client_target(url: str) -> tuple[dict[str, str], str]:
    """The client tools' environment (the password, never in argv) and their `--dbname`:
    `url` as a libpq URI without the password, so they connect with the URL's connection
    parameters (sslmode, sslrootcert, a socket directory, options, ...) as the server's
    own connections do."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return env, libpq_uri(url, with_password=False)


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


@contextlib.contextmanager
def pg_snapshot(engine: Engine, work_dir: Path, name: str) -> Iterator[Snapshot]:
    spool = SealedSpool(work_path(work_dir, name + ".pgdump.sealed"))
    try:
        with engine.connect() as plain:
            conn = plain.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():  # the exported snapshot lives as long as this transaction
                snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                counts = pg_counts(conn)
                revisions = sorted(conn.execute(
                    text("SELECT version_num FROM alembic_version")).scalars())
                env, conninfo = pg_client_target(engine.url.render_as_string(hide_password=False))
                _run_piped(
                    [pg_tool("pg_dump", pg_major(conn)), f"--dbname={conninfo}",
                     "--format=custom", "--compress=0",
                     f"--snapshot={snapshot_id}", "--no-owner", "--no-privileges"],
                    env=env, feed=None, take=spool.fill, failure=ConfigurationError,
                    what="pg_dump")
        yield Snapshot(Dump(POSTGRES_MEMBER, spool.size, spool.path, spool), counts, revisions)
    finally:
        spool.remove()


def _run_piped(args: list[str], *, env: dict[str, str], feed: Dump | None,
               take: Callable[[BinaryIO], object] | None,
               failure: type[Exception], what: str) -> None:
    """Run a client tool with its stdin fed from `feed` or its stdout given to `take`."""
    with tempfile.TemporaryFile() as errors, subprocess.Popen(  # noqa: S603 - fixed argv
            args, env=env, stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
            stdout=subprocess.PIPE if take else subprocess.DEVNULL, stderr=errors) as proc:
        try:
            if feed is not None:
                assert proc.stdin is not None
                with feed.reader() as fh, contextlib.suppress(BrokenPipeError):
                    while chunk := fh.read(_COPY):
                        proc.stdin.write(chunk)
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
            if take is not None:
                assert proc.stdout is not None
                take(cast(BinaryIO, proc.stdout))
        finally:
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            raise failure(f"{what} failed: {errors.read().decode(errors='replace')}")


def pg_restore(url: str, dump: Dump, *, server_major: int, clean: bool) -> None:
    env, conninfo = pg_client_target(url)
    args = [pg_tool("pg_restore", server_major), "--no-owner", "--no-privileges",
            "--exit-on-error", "--single-transaction", f"--dbname={conninfo}"]
    if clean:
        args += ["--clean", "--if-exists"]
    _run_piped(args, env=env, feed=dump, take=None, failure=BackupDamaged, what="pg_restore")
