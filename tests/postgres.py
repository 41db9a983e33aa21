"""The test databases on one PostgreSQL server: made, copied from a template, recycled.

`CREATE DATABASE ... TEMPLATE` copies every page of the template, the system catalogues
included (9 MB for a migrated instance, as WAL), and `DROP DATABASE` forces a checkpoint:
on two busy cores that was about half a second of a PostgreSQL test's set-up and most of
the machine's system time. So a test's copy of a template is not dropped when the test
ends but recycled: renamed out of the test's reach, its rows replaced by the template's
and its sequences reset, then renamed to the next test's database name. A copy whose
schema no longer matches the template's (a test that migrated or restored it into
another shape) is dropped instead. Renaming needs every session to have left, as
dropping does, so a process a test left behind cannot reach the next test's data.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, sql
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ehrlich.storage.libpq import libpq_uri

TEST_DATABASE_PREFIX = "ehrlich_test_"
DROPPERS = 8  # concurrent DROP DATABASEs (connections) per test process
RENAME_ATTEMPTS = 5  # each waits up to 5 s for terminated sessions to leave

# Everything a test could change in a database's shape, one line per object: tables,
# sequences, columns with their types and defaults, constraints, indexes, other schemas,
# functions, types, triggers, extensions and the database's own settings.
SCHEMA_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' ' || a.attnotnull::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'con ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL
  SELECT 'nsp ' || nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
  UNION ALL
  SELECT 'fn ' || p.oid::regprocedure::text FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'typ ' || t.typname || ' ' || t.typtype::text FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('c', 'd', 'e', 'r')
  UNION ALL
  SELECT 'enum ' || t.typname || ' ' || e.enumlabel || ' ' || e.enumsortorder::text
    FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
  UNION ALL
  SELECT 'trg ' || tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'ext ' || extname FROM pg_extension
  UNION ALL
  SELECT 'set ' || array_to_string(setconfig, ',') FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS schema(item)
"""

FOREIGN_KEYS = """
SELECT child.relname, parent.relname FROM pg_constraint
JOIN pg_class child ON child.oid = conrelid JOIN pg_class parent ON parent.oid = confrelid
WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND conrelid <> confrelid
"""


@dataclass(frozen=True)
class TemplateContents:
    """What a copy of a template holds before a test touches it, read once from the template."""

    fingerprint: str
    tables: tuple[str, ...]  # parents before the tables whose foreign keys name them
    rows: dict[str, bytes]  # COPY ... (FORMAT binary) of each table with rows
    sequences: dict[str, int | None]  # last value given out; None: never used

    @classmethod
    def read(cls, conninfo: str) -> TemplateContents:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            fingerprint = _one(conn, SCHEMA_FINGERPRINT)
            names = [row[0] for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
            parents: dict[str, set[str]] = {name: set() for name in names}
            for child, parent in conn.execute(FOREIGN_KEYS):
                parents[child].add(parent)
            rows = {}
            for name in names:
                if _one(conn, sql.SQL("SELECT EXISTS (SELECT FROM {})").format(
                        sql.Identifier(name))):
                    with conn.cursor().copy(sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(
                            sql.Identifier(name))) as copy:
                        rows[name] = b"".join(bytes(block) for block in copy)
            sequences: dict[str, int | None] = dict(conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall())
        return cls(fingerprint, _parents_first(parents), rows, sequences)

    def restore(self, conninfo: str) -> bool:
        """Give the database at `conninfo` these contents; False if its schema is another."""
        with psycopg.connect(conninfo, autocommit=True) as conn:
            if _one(conn, SCHEMA_FINGERPRINT) != self.fingerprint:
                return False
            with conn.transaction():
                for name in reversed(self.tables):  # children first
                    conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(name)))
                for name in self.tables:
                    if name in self.rows:
                        with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)")
                                                .format(sql.Identifier(name))) as copy:
                            copy.write(self.rows[name])
                for sequence, last_value in self.sequences.items():
                    if last_value is None:
                        conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(
                            sql.Identifier(sequence)))
                    else:
                        conn.execute("SELECT setval(%s::regclass, %s)",
                                     (sql.Identifier(sequence).as_string(conn), last_value))
        return True


def _one(conn: psycopg.Connection[Any], query: str | sql.Composed) -> Any:
    """The one value `query` answers."""
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _parents_first(parents: dict[str, set[str]]) -> tuple[str, ...]:
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(parents):
        ready = sorted(name for name, needs in parents.items()
                       if name not in placed and needs <= placed)
        if not ready:
            raise ValueError(f"foreign keys in a cycle among {sorted(set(parents) - placed)}")
        ordered.extend(ready)
        placed.update(ready)
    return tuple(ordered)


class PostgresServer:
    """Creates, copies and drops the test databases on one server, over one admin pool.

    A test's database is let go in the background (`discard`): a copy of a template is
    recycled for the next test that asks for a copy (`copy_template`), any other database
    dropped. Several drops run at once, so they share checkpoints: one at a time, the drops
    fell behind the tests and the run's end waited minutes for them. `close` waits until
    every discarded database is recycled or gone, then drops the recycled copies."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._engine: Engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._background = ThreadPoolExecutor(max_workers=DROPPERS,
                                              thread_name_prefix="discard-database")
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()
        self._contents: dict[str, TemplateContents] = {}  # by template database
        self._copy_of: dict[str, str] = {}  # handed-out copy -> its template
        self._recycled: dict[str, list[str]] = {}  # template -> copies ready to hand out

    def url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(
            hide_password=False)

    def conninfo(self, name: str) -> str:
        """Database `name`'s address as psycopg takes it."""
        return libpq_uri(self.url(name), with_password=True)

    def new_name(self, prefix: str = TEST_DATABASE_PREFIX) -> str:
        return f"{prefix}{uuid.uuid4().hex[:12]}"

    def create(self, name: str, *, template: str | None = None) -> str:
        """Create database `name` (empty, or a copy of `template`); returns its URL."""
        copy = f' TEMPLATE "{template}"' if template else ""
        with self._engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        return self.url(name)

    def made_template(self, template: str) -> None:
        """Note that `template` is complete: copies of it may be recycled from now on."""
        self._contents[template] = TemplateContents.read(self.conninfo(template))
        self._recycled[template] = []

    def copy_template(self, template: str, name: str) -> str:
        """Make database `name` a copy of `template` (a recycled one if there is); its URL."""
        with self._lock:
            ready = self._recycled.get(template, [])
            recycled = ready.pop() if ready else None
        if recycled is None or not self._rename(recycled, name):
            if recycled is not None:
                self.drop(recycled)
            self.create(name, template=template)
        if template in self._contents:
            with self._lock:
                self._copy_of[name] = template
        return self.url(name)

    def drop(self, name: str) -> None:
        with self._engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def discard(self, name: str) -> None:
        """Let database `name` go without waiting: recycled if a template's copy, else dropped."""
        with self._lock:
            template = self._copy_of.pop(name, None)
        work = self.drop if template is None else (lambda name: self._recycle(name, template))
        self._pending.append(self._background.submit(work, name))

    def settle(self) -> None:
        """Wait until every database let go so far is recycled or dropped."""
        while self._pending:
            self._pending.pop(0).result()  # a failed drop or recycling shows here

    def close(self) -> None:
        """Drop every database still here: recycled copies and copies never discarded."""
        self._background.shutdown(wait=True)
        self.settle()
        leftover = [name for copies in self._recycled.values() for name in copies]
        leftover += list(self._copy_of)
        with ThreadPoolExecutor(max_workers=DROPPERS) as dropper:
            list(dropper.map(self.drop, leftover))
        self._engine.dispose()

    def _recycle(self, name: str, template: str) -> None:
        held = self.new_name(f"{TEST_DATABASE_PREFIX}recycled_")
        if not self._rename(name, held):
            self.drop(name)
            return
        try:
            restored = self._contents[template].restore(self.conninfo(held))
        except Exception:
            self.drop(held)
            raise
        if not restored:
            self.drop(held)  # the test changed its shape
            return
        with self._lock:
            self._recycled[template].append(held)

    def _rename(self, old: str, new: str) -> bool:
        """Rename database `old` once every session on it has been ended; False if it stays
        in use or is not there (the test dropped it)."""
        for _ in range(RENAME_ATTEMPTS):
            with self._engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                  " WHERE datname = :name AND pid <> pg_backend_pid()"),
                             {"name": old})
                try:
                    conn.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
                    return True
                except DBAPIError as exc:
                    if isinstance(exc.orig, errors.InvalidCatalogName):
                        return False
                    if not isinstance(exc.orig, errors.ObjectInUse):
                        raise
            time.sleep(0.05)
        return False
