"""Inserting many rows of one table at once: the driver's executemany, or COPY.

SQLAlchemy's executemany of a Core insert builds and converts every parameter of
every row in Python (40 µs a row for a table of 17 columns here). `insert_many`
compiles the same Core insert once per table and set of columns, converts each
value with its column type's own bind processor, a value that every row shares
(the batch's timestamp, the purpose of every consent event) once for the batch, and
hands the rows to the driver's executemany: the same statement and the same stored
values, at a third of the cost. Bulk paths (subjects, their data keys, consent
events and states, an import's rejected rows) insert through it.

On PostgreSQL the rows go in with `COPY … FROM STDIN` (psycopg's copy, on the
transaction's own connection) instead: psycopg's executemany sends each row as a
statement of its own (a plain insert of the subjects' shape: 28 µs a row, with COPY
14). A row COPY refuses (a duplicate key, a value too long) fails the statement and
the transaction as the INSERT would, and is raised as the same SQLAlchemy exception.
COPY's text format: its binary format was no faster here and would need each
column's type mapped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from operator import is_, itemgetter
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

Processor = Callable[[Any], Any] | None


class _Plan:
    """The compiled insert of one table and set of columns, for one dialect."""

    __slots__ = ("copy", "keys", "positional", "processors", "sql")

    def __init__(self, table: Table, keys: tuple[str, ...], dialect: Dialect) -> None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        names = (list(compiled.positiontup or ()) if compiled.positional
                 else list(compiled.bind_names.values()))
        if sorted(names) != sorted(keys):
            # a column default or an unknown key: the rows do not name exactly the
            # statement's parameters
            raise ValueError(f"insert_many into {table.name} needs every row to name "
                             f"exactly the columns it fills ({sorted(keys)} vs {sorted(names)})")
        self.sql = str(compiled)
        self.positional = compiled.positional
        self.keys = tuple(names)
        self.processors: tuple[Processor, ...] = tuple(
            table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
            for key in self.keys)
        quote = dialect.identifier_preparer
        self.copy = (f"COPY {quote.format_table(table)} "
                     f"({', '.join(quote.quote(table.c[key].name) for key in self.keys)}) "
                     "FROM STDIN")


_PLANS: dict[tuple[int, str, tuple[str, ...]], _Plan] = {}


def _plan(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _Plan:
    cache_key = (id(dialect), table.fullname, keys)
    found = _PLANS.get(cache_key)
    if found is None:
        found = _PLANS[cache_key] = _Plan(table, keys, dialect)
    return found


def insert_many(connection: Connection, table: Table,
                rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row (dicts naming the same columns, every column without a value
    of its own in the database) in the connection's transaction, in one executemany."""
    if not rows:
        return
    first = rows[0]
    plan = _plan(table, tuple(first), connection.dialect)
    if set(map(len, rows)) != {len(first)}:
        raise ValueError(f"insert_many into {table.name}: the rows name different columns")
    columns: list[list[Any]] = []
    # the loops over a column's rows run in C (map, all): a batch of consent events is
    # 25 columns of a few hundred rows each
    for key, process in zip(plan.keys, plan.processors, strict=True):
        values = list(map(itemgetter(key), rows))
        if process is None:
            columns.append(values)
        elif all(map(is_, values, repeat(values[0]))):  # one value for the batch
            columns.append([process(values[0])] * len(values))
        else:
            columns.append(list(map(process, values)))
    params: list[Any] = list(zip(*columns, strict=True))
    if connection.dialect.name == "postgresql":
        _copy(connection, plan, params)
        return
    if not plan.positional:
        params = [dict(zip(plan.keys, values, strict=True)) for values in params]
    connection.exec_driver_sql(plan.sql, params)


def _copy(connection: Connection, plan: _Plan, rows: list[tuple[Any, ...]]) -> None:
    """The rows through PostgreSQL's COPY, in `connection`'s transaction."""
    import psycopg  # the PostgreSQL driver, loaded only where it is used

    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(plan.copy) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(plan.copy, None, exc, psycopg.Error) from exc
