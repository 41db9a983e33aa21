"""The suppression list: blind indexes of addresses that left, per purpose or for all ("*").

A suppressed address cannot be enrolled again by import, API or staff
(`granted`); the person can still ask again themselves, and their confirmed
double opt-in lifts the suppression for that purpose. Erasure suppresses for
all purposes, and that entry is never lifted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.orm import Session

from ehrlich.consent.models import ALL_PURPOSES, Suppression
from ehrlich.storage.keys import KeysIn
from ehrlich.storage.upsert import PerDialect

_SUPPRESSIONS = cast(Table, Suppression.__table__)
_CHUNK = 500
# Built once: every withdrawal and confirmation runs them.
# Both databases keep the first entry when one exists, also against a concurrent insert.
_ADD = PerDialect(lambda insert: insert(_SUPPRESSIONS).on_conflict_do_nothing())
_FIND = select(_SUPPRESSIONS.c.purpose).where(
    _SUPPRESSIONS.c.email_index == bindparam("email_index"),
    _SUPPRESSIONS.c.purpose.in_(bindparam("purposes", expanding=True))).limit(1)
_AMONG_KEYS = KeysIn(_SUPPRESSIONS.c.email_index)
_PURPOSES = _SUPPRESSIONS.c.purpose.in_(bindparam("purposes", expanding=True))
_AMONG = _AMONG_KEYS.statements(
    lambda keys: select(_SUPPRESSIONS.c.email_index).where(keys, _PURPOSES))
"""`suppressed_among`'s query, built once per database (an import asks it for every batch)."""
_PAIRS = _AMONG_KEYS.statements(
    lambda keys: select(_SUPPRESSIONS.c.email_index, _SUPPRESSIONS.c.purpose).where(
        keys, _PURPOSES))
"""`suppressed_pairs`'s query, built once per database."""
_LIFT = delete(_SUPPRESSIONS).where(_SUPPRESSIONS.c.email_index == bindparam("email_index"),
                                    _SUPPRESSIONS.c.purpose == bindparam("purpose"))


def suppress(session: Session, email_index: bytes, *, purpose: str, reason: str,
             now: datetime) -> None:
    """Idempotent: an address already suppressed keeps its first reason and time."""
    conn = session.connection()
    conn.execute(_ADD[conn.dialect.name], {"email_index": email_index, "purpose": purpose,
                                           "reason": reason, "created_at": now})


def suppress_everywhere(session: Session, email_index: bytes, *, reason: str,
                        now: datetime) -> None:
    """For erased addresses: no purpose may enrol them again by import or API."""
    suppress(session, email_index, purpose=ALL_PURPOSES, reason=reason, now=now)


def suppress_everywhere_many(session: Session, email_indexes: Sequence[bytes], *,
                             reason: str, now: datetime) -> None:
    """`suppress_everywhere` for many addresses, one statement per 500 (idempotent)."""
    conn = session.connection()
    for start in range(0, len(email_indexes), _CHUNK):
        conn.execute(_ADD[conn.dialect.name], [
            {"email_index": index, "purpose": ALL_PURPOSES, "reason": reason, "created_at": now}
            for index in email_indexes[start:start + _CHUNK]])




def is_suppressed(session: Session, email_index: bytes, purpose: str, *,
                  exact: bool = False) -> bool:
    purposes = [purpose] if exact else [purpose, ALL_PURPOSES]
    return session.connection().execute(
        _FIND, {"email_index": email_index, "purposes": purposes}).first() is not None


def lift(session: Session, email_index: bytes, *, purpose: str) -> None:
    """After the person's own confirmed opt-in; never lifts an erasure ("*")."""
    if purpose == ALL_PURPOSES:
        return
    session.connection().execute(_LIFT, {"email_index": email_index, "purpose": purpose})


def suppressions_of(session: Session, email_index: bytes) -> list[Suppression]:
    """Every suppression of one address (blind index), oldest first."""
    return list(session.execute(select(Suppression).where(
        Suppression.email_index == email_index).order_by(Suppression.created_at)
    ).scalars())


def suppressed_among(session: Session, email_indexes: Iterable[bytes], purpose: str
                     ) -> set[bytes]:
    """Which of these addresses are suppressed for the purpose or for all (for imports)."""
    wanted = sorted(set(email_indexes))
    found: set[bytes] = set()
    conn, purposes = session.connection(), [purpose, ALL_PURPOSES]
    dialect = conn.dialect.name
    for start in range(0, len(wanted), _CHUNK):
        found.update(conn.execute(_AMONG[dialect], {
            **_AMONG_KEYS.params(wanted[start:start + _CHUNK]),
            "purposes": purposes}).scalars())
    return found


def suppressed_pairs(session: Session, wanted: Collection[tuple[bytes, str]]
                     ) -> set[tuple[bytes, str]]:
    """Of these (address, purpose) pairs, the suppression entries that exist: the pair
    itself, or the address with `ALL_PURPOSES`, in one look-up per chunk."""
    if not wanted:
        return set()
    addresses = sorted({e for e, _ in wanted})
    purposes = sorted({p for _, p in wanted} | {ALL_PURPOSES})
    found: set[tuple[bytes, str]] = set()
    conn = session.connection()
    dialect = conn.dialect.name
    for start in range(0, len(addresses), _CHUNK):
        found.update((row[0], row[1]) for row in conn.execute(_PAIRS[dialect], {
            **_AMONG_KEYS.params(addresses[start:start + _CHUNK]),
            "purposes": purposes}))
    return found


@dataclass(frozen=True)
class Change:
    """A suppression made (`reason`: why) or lifted (`reason` None), in order."""

    email_index: bytes
    purpose: str
    reason: str | None


def apply(session: Session, changes: Sequence[Change], *, now: datetime) -> None:
    """Apply changes as `suppress` and `lift` one after another would, in two statements:
    the lifts, then the entries that stand at the end (an address suppressed again after a
    lift in the same batch gets the reason of that later suppression)."""
    lifted: dict[tuple[bytes, str], None] = {}
    added: dict[tuple[bytes, str], str] = {}
    for change in changes:
        key = (change.email_index, change.purpose)
        if change.reason is None:
            if change.purpose != ALL_PURPOSES:  # an erasure is never lifted
                lifted[key] = None
                added.pop(key, None)
        else:
            added.setdefault(key, change.reason)
    conn = session.connection()
    if lifted:
        conn.execute(_LIFT, [{"email_index": e, "purpose": p} for e, p in lifted])
    if added:
        conn.execute(_ADD[conn.dialect.name], [
            {"email_index": e, "purpose": p, "reason": reason, "created_at": now}
            for (e, p), reason in added.items()])
