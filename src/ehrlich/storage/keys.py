"""Look-ups by many fixed-width binary keys at once (the blind indexes of addresses).

`column IN (:k1, …)` binds each key as a parameter of its own: SQLite does that in C,
but psycopg escapes and sends every bytea separately, about 5 µs a key, more than the
index probes themselves (1,000 keys against a unique index of 300,000: 10 ms, against
4 ms this way). On PostgreSQL the keys go as one bytea, their concatenation, which the
server cuts into the array of `= ANY(…)`; the index is still probed for each key (a
bitmap index scan), as for the list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, LargeBinary, any_, bindparam, func, select

DIALECTS = ("sqlite", "postgresql")
Statement = TypeVar("Statement")


class KeysIn:
    """`column IN keys` for a binary column of a fixed length (`LargeBinary(32)`), in the
    form each database takes best: `statements(build)` builds a statement around it once
    per database, `params(keys, dialect)` are its parameters."""

    def __init__(self, column: ColumnElement[Any], *, name: str = "keys") -> None:
        width = getattr(column.type, "length", None)
        if not isinstance(width, int):
            raise ValueError(f"{column} has no fixed length")
        self._width, self._name = width, name
        self._list = column.in_(bindparam(name, expanding=True))
        offsets = func.generate_series(0, bindparam(f"{name}_count", type_=Integer) - 1
                                       ).table_valued("i").render_derived(name=f"{name}_offsets")
        piece = func.substring(bindparam(f"{name}_blob", type_=LargeBinary),
                               offsets.c.i * width + 1, width)
        self._array = column == any_(func.array(select(piece).scalar_subquery()))

    def clause(self, dialect: str) -> ColumnElement[bool]:
        return self._array if dialect == "postgresql" else self._list

    def statements(self, build: Callable[[ColumnElement[bool]], Statement]
                   ) -> dict[str, Statement]:
        """`build(clause)` for each database, by dialect name."""
        return {dialect: build(self.clause(dialect)) for dialect in DIALECTS}

    def params(self, keys: Sequence[bytes], dialect: str) -> dict[str, Any]:
        if any(len(key) != self._width for key in keys):  # one rule on both databases
            raise ValueError(f"every key must be {self._width} bytes long")
        if dialect != "postgresql":
            return {self._name: list(keys)}
        return {f"{self._name}_blob": b"".join(keys), f"{self._name}_count": len(keys)}
