"""The erasure ledger: who was erased, kept in a database apart from the data and its backups.

One table, `erasure_ledger`, in its own database (`ledger_url`): by default the SQLite
file `DATA_DIR/ledger.sqlite3`; with several hosts one PostgreSQL database that every
host reaches, so no file is shared. Each entry carries the erased subject id, its blind
indexes (never plaintext) and the time, and is MAC-chained to the one before (the MAC
covers the previous MAC and the entry), so a restore can trust what it replays.

Appends from any number of processes and hosts keep one chain: a transaction reads
the last entry and inserts the next sequence number, whose primary key (and the
unique `prev`) lets only one of two racing appends win; the loser rolls back and
tries again on the new last entry. No file lock is needed. The append commits
before the erasure does: a crash between the two leaves a ledger entry for a
subject that is still present, which the next replay erases — never the reverse.

Every backup carries a copy of the chain (`write_copy`, an encrypted member of the
archive), so a restore replays from the newer of the live ledger and the copy.

The file ledger of earlier versions (`erasure-ledger.jsonl`) is read once, appended
to the table and renamed (`*.migrated`) at first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    Text,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from ehrlich.crypto import Keyring
from ehrlich.crypto.digests import constant_time_equal, derive_key, hmac_sha256
from ehrlich.crypto.envelope import length_prefixed
from ehrlich.errors import ConfigurationError, IntegrityFailure
from ehrlich.settings import Settings
from ehrlich.storage.database import Database

T = TypeVar("T")
GENESIS = "0" * 64
_JITTER = random.SystemRandom()  # back-off between racing appends
APPEND_ATTEMPTS = 200
TABLE_ATTEMPTS = 5
"""Racing appends retry on the new last entry; each retry means another append won."""
_MIGRATION_LOCK = 0x6568726C6564  # PostgreSQL advisory lock for the one-time file migration

ledger_metadata = MetaData()
"""The ledger database's own schema: not part of the instance database's migrations,
since it lives apart from that database (and its backups) by design."""

erasure_ledger = Table(
    "erasure_ledger", ledger_metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", Text, nullable=False),
    # One successor per entry: two appends on the same last entry cannot both commit.
    Column("prev", String(64), nullable=False, unique=True),
    Column("mac", String(64), nullable=False),
)


@dataclass(frozen=True)
class ErasureRecord:
    subject_id: str
    email_index: bytes | None
    phone_index: bytes | None
    erased_at: datetime


@dataclass(frozen=True)
class LedgerEntry:
    """One verified link of the chain."""

    seq: int
    record: ErasureRecord
    prev: str
    mac: str

    @property
    def key(self) -> tuple[str, str]:
        """What makes an erasure the same erasure in two ledgers (the MACs differ when
        the chains diverged)."""
        return self.record.subject_id, self.record.erased_at.isoformat()


@dataclass(frozen=True)
class CopyMark:
    """What `write_copy` wrote: the number of entries, the last erasure, size and hash."""

    entries: int
    last_erased_at: datetime | None
    size: int
    sha256: str


def _body(record: ErasureRecord) -> str:
    return json.dumps({
        "subject_id": record.subject_id,
        "email_index": record.email_index.hex() if record.email_index else None,
        "phone_index": record.phone_index.hex() if record.phone_index else None,
        "erased_at": record.erased_at.isoformat(),
    }, sort_keys=True, separators=(",", ":"))


def _record(body: str) -> ErasureRecord:
    entry = json.loads(body)
    return ErasureRecord(
        subject_id=entry["subject_id"],
        email_index=bytes.fromhex(entry["email_index"]) if entry["email_index"] else None,
        phone_index=bytes.fromhex(entry["phone_index"]) if entry["phone_index"] else None,
        erased_at=datetime.fromisoformat(entry["erased_at"]),
    )


def display_url(url: str) -> str:
    """The ledger's URL for messages: no password."""
    return make_url(url).render_as_string(hide_password=True)


def same_database(first: str, second: str) -> bool:
    """Whether two URLs name the same database (a schema in it counts as the same)."""
    a, b = make_url(first), make_url(second)
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        return bool(a.database) and Path(a.database or "").absolute() == \
            Path(b.database or "").absolute()
    return ((a.host or "localhost"), a.port or 5432, a.database) == \
        ((b.host or "localhost"), b.port or 5432, b.database)


class ErasureLedger:
    """The chain in its database; opened (and the old file migrated) at first use."""

    def __init__(self, url: str, keyring: Keyring, *, legacy_file: Path | None = None) -> None:
        self.url = url
        self.location = display_url(url)
        self._legacy_file = legacy_file
        self._key = derive_key(keyring.audit_key, b"ehrlich erasure ledger v1")
        self._db: Database | None = None
        self._legacy_checked = False
        self._opening = threading.Lock()

    # -- the chain -------------------------------------------------------------------

    def _mac(self, prev: str, body: str) -> str:
        return hmac_sha256(self._key, length_prefixed(prev.encode(), body.encode())).hex()

    def _verified(self, links: Iterable[tuple[int, str, str, str]], where: str
                  ) -> Iterator[LedgerEntry]:
        """Check each (seq, body, prev, mac) against the one before; raise on a break."""
        prev, expected = GENESIS, 1
        for seq, body, link_prev, mac in links:
            if seq != expected:
                raise IntegrityFailure(f"erasure ledger {where}: entry {expected} was removed "
                                       f"(the next is {seq})")
            try:
                ok = link_prev == prev and constant_time_equal(
                    bytes.fromhex(mac), bytes.fromhex(self._mac(prev, body)))
                record = _record(body) if ok else None
            except (ValueError, KeyError, TypeError) as exc:
                raise IntegrityFailure(
                    f"erasure ledger {where}: entry {seq} is damaged") from exc
            if record is None:
                raise IntegrityFailure(
                    f"erasure ledger {where}: entry {seq} was altered or removed")
            yield LedgerEntry(seq, record, prev, mac)
            prev, expected = mac, expected + 1

    # -- the database ------------------------------------------------------------------

    def _open(self) -> Database:
        """The ledger database, opened once; the former file ledger moved in first
        (tried again at each use until it is, so a damaged file is never passed over)."""
        with self._opening:
            if self._db is None:
                self._db = self._connect()
            db = self._db
            if self._legacy_file is not None and not self._legacy_checked:
                if self._legacy_file.exists():
                    self._migrate_file(db, self._legacy_file)
                self._legacy_checked = True
        return db

    def _connect(self) -> Database:
        if self.url.startswith("sqlite"):
            Path(make_url(self.url).database or "").parent.mkdir(parents=True, exist_ok=True)
        db = Database(self.url, pool_size=2, max_overflow=4)
        if db.is_sqlite:
            @event.listens_for(db.engine, "connect")
            def _durable(dbapi_connection: Any, _record: Any) -> None:
                # An erasure commits only after its ledger entry is on disk.
                dbapi_connection.execute("PRAGMA synchronous=FULL")
        for attempt in range(TABLE_ATTEMPTS):
            try:
                with db.engine.begin() as conn:
                    conn.execute(CreateTable(erasure_ledger, if_not_exists=True))
                return db
            except (IntegrityError, ProgrammingError, OperationalError) as exc:
                # Processes starting at once race to create the table: look again.
                racing = not isinstance(exc, OperationalError) or any(
                    word in str(exc.orig) for word in ("already exists", "locked"))
                if racing and attempt < TABLE_ATTEMPTS - 1:
                    time.sleep(_JITTER.uniform(0.01, 0.1))
                    continue
                db.dispose()
                raise ConfigurationError(
                    f"the erasure ledger database {self.location} cannot be opened "
                    f"({type(exc.orig).__name__}: {exc.orig}); check ledger_url") from exc
        return db

    def close(self) -> None:
        with self._opening:
            if self._db is not None:
                self._db.dispose()
                self._db = None

    def append(self, record: ErasureRecord) -> None:
        """Add an erasure at the end of the chain, retrying when another append won."""
        self.append_many([record])

    def append_many(self, records: Sequence[ErasureRecord]) -> None:
        """Add erasures at the end of the chain, in order, in one transaction (one
        commit and fsync for all), retrying when another append won."""
        if not records:
            return
        bodies = [_body(record) for record in records]
        self._retrying(self._open(), lambda session: self._append_in(session, bodies))

    def _retrying(self, db: Database, work: Callable[[Session], T]) -> T:
        """Run `work` in a write transaction, again while another append wins the race."""
        for attempt in range(APPEND_ATTEMPTS):
            try:
                with db.write() as session:
                    return work(session)
            except (IntegrityError, OperationalError) as exc:
                if isinstance(exc, OperationalError) and "locked" not in str(exc):
                    raise ConfigurationError(
                        f"the erasure ledger database {self.location} cannot be reached "
                        f"({type(exc.orig).__name__}); nothing was erased: try again once it "
                        "is back (check ledger_url)") from exc
                time.sleep(_JITTER.uniform(0, 0.002 * min(attempt + 1, 25)))
        raise IntegrityFailure(f"erasure ledger {self.location}: {APPEND_ATTEMPTS} appends in "
                               "a row lost the race for the next entry; try again")

    def _append_in(self, session: Session, bodies: Sequence[str]) -> None:
        """Chain `bodies` after the last entry: each links to the MAC of the one before."""
        last = session.execute(select(erasure_ledger.c.seq, erasure_ledger.c.mac)
                               .order_by(erasure_ledger.c.seq.desc()).limit(1)).first()
        seq, prev = (0, GENESIS) if last is None else (int(last.seq), str(last.mac))
        rows = []
        for body in bodies:
            mac = self._mac(prev, body)
            seq += 1
            rows.append({"seq": seq, "entry": body, "prev": prev, "mac": mac})
            prev = mac
        session.execute(insert(erasure_ledger), rows)

    def entries(self) -> Iterator[LedgerEntry]:
        """Every entry, oldest first, verified; raises if the ledger was altered."""
        db = self._open()
        with db.read() as session:
            rows = session.execute(
                select(erasure_ledger.c.seq, erasure_ledger.c.entry, erasure_ledger.c.prev,
                       erasure_ledger.c.mac).order_by(erasure_ledger.c.seq)
                .execution_options(yield_per=1000))
            try:
                yield from self._verified(((int(r.seq), r.entry, r.prev, r.mac) for r in rows),
                                          self.location)
            finally:
                rows.close()  # also when the chain breaks half-way (a server-side cursor)

    def records(self) -> Iterator[ErasureRecord]:
        """Every erasure, oldest first; raises if the ledger was altered or is unreadable."""
        for entry in self.entries():
            yield entry.record

    def adopt(self, entries: Iterable[LedgerEntry]) -> int:
        """Append, in order, the erasures of another verified chain that this one lacks
        (the file ledger of earlier versions, or a backup's copy newer than the live
        ledger); returns how many were appended."""
        return self._adopt(self._open(), list(entries))

    def _adopt(self, db: Database, wanted: list[LedgerEntry]) -> int:
        if not wanted:
            return 0
        return self._retrying(db, lambda session: self._adopt_in(session, wanted,
                                                                 sqlite=db.is_sqlite))

    def _adopt_in(self, session: Session, wanted: list[LedgerEntry], *, sqlite: bool) -> int:
        if not sqlite:  # SQLite's write transaction already excludes the others
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                            {"key": _MIGRATION_LOCK})
        held = {e.key for e in self._verified(
            ((int(r.seq), r.entry, r.prev, r.mac) for r in session.execute(
                select(erasure_ledger).order_by(erasure_ledger.c.seq))), self.location)}
        missing = [e for e in wanted if e.key not in held]
        if missing:
            self._append_in(session, [_body(entry.record) for entry in missing])
        return len(missing)

    # -- the copy in every backup ------------------------------------------------------

    def write_copy(self, out: BinaryIO) -> CopyMark:
        """The verified chain as JSON lines (`seq`, `entry`, `prev`, `mac`), streamed."""
        digest, size, count, last = hashlib.sha256(), 0, 0, None
        for entry in self.entries():
            line = (json.dumps({"seq": entry.seq, "entry": json.loads(_body(entry.record)),
                                "prev": entry.prev, "mac": entry.mac},
                               separators=(",", ":")) + "\n").encode()
            out.write(line)
            digest.update(line)
            size, count, last = size + len(line), count + 1, entry.record.erased_at
        return CopyMark(count, last, size, digest.hexdigest())

    def read_copy(self, path: Path, *, label: str) -> Iterator[LedgerEntry]:
        """A chain written by `write_copy` (or an old ledger file, which has no `seq`),
        verified with this instance's key."""
        yield from self._verified(_lines(path, label), label)

    def _migrate_file(self, db: Database, path: Path) -> None:
        label = f"file {path}"
        try:
            entries = list(self.read_copy(path, label=label))
        except FileNotFoundError:
            return  # another process migrated and renamed it a moment ago
        except IntegrityFailure as exc:
            raise ConfigurationError(
                f"{exc.message}: the former erasure ledger cannot be moved into "
                f"{self.location}; restore a good copy of the file or move it away") from exc
        self._adopt(db, entries)
        target = path.with_name(path.name + ".migrated")
        n = 1
        while target.exists():
            target, n = path.with_name(f"{path.name}.migrated-{n}"), n + 1
        with contextlib.suppress(FileNotFoundError):  # renamed by another process; its
            path.rename(target)  # entries are in the table either way


def _lines(path: Path, label: str) -> Iterator[tuple[int, str, str, str]]:
    with path.open(encoding="utf-8") as fh:
        number = 0
        for line in fh:
            if not line.strip():
                continue
            number += 1
            try:
                doc = json.loads(line)
                body = json.dumps(doc["entry"], sort_keys=True, separators=(",", ":"))
                yield int(doc.get("seq", number)), body, str(doc["prev"]), str(doc["mac"])
            except (ValueError, KeyError, TypeError) as exc:
                raise IntegrityFailure(f"erasure ledger {label}: line {number} is "
                                       "damaged") from exc


def open_ledger(settings: Settings, keyring: Keyring) -> ErasureLedger:
    """The configured ledger, refused when it would live inside the instance database
    (a restore of that database would roll it back, which is what it guards against)."""
    url = settings.effective_ledger_url
    if same_database(url, settings.effective_database_url):
        raise ConfigurationError(
            f"ledger_url {display_url(url)} names the instance database itself: the "
            "erasure ledger must live in a database of its own (e.g. "
            "postgresql://HOST/ehrlich_ledger), so that restoring the data cannot roll it back")
    return ErasureLedger(url, keyring, legacy_file=settings.effective_erasure_ledger)
