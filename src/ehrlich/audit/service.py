"""Append to and verify the audit chain.

Each entry's hash is HMAC-SHA256, under a key derived from the key file, over
the previous hash and the entry's fields. Someone with database access alone
can change rows but cannot compute matching hashes; `verify_chain` names the
first entry that no longer fits. Entries never carry personal data: targets
are subject ids, details are field names, counts and reasons.

The console's protection report runs on every view of the overview, and walking
a long chain takes seconds: `verify_recent` walks the whole chain at most once per
`FULL_WALK_EVERY` per process and, in between, only the entries after the last one
it verified (checking that one still carries the hash it had). `ehrlich audit
verify` and `ehrlich doctor` always walk the whole chain.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.models import AuditEntry, AuditHead
from ehrlich.crypto import Keyring
from ehrlich.crypto.digests import constant_time_equal, hmac_sha256
from ehrlich.crypto.envelope import length_prefixed
from ehrlich.errors import InvalidInput

GENESIS_HASH = bytes(32)
HEAD_ID = 1
FULL_WALK_EVERY = timedelta(hours=1)
_ENTRIES = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)
# Built once: every audited read runs these, and statement construction is not free.
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(
    seq=bindparam("new_seq"), hash=bindparam("new_hash"))
_APPEND = insert(_ENTRIES)


@dataclass(frozen=True)
class AuditEvent:
    actor: str
    action: str
    target: str
    detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class Anchor:
    """An entry's sequence number and hash, kept somewhere the database is not.

    Whoever holds both the database and the key file can rewrite the chain so
    that it verifies; an anchor noted earlier off-host still shows the rewrite.
    """

    seq: int
    hash: bytes

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash.hex()}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, digest = text.strip().partition(":")
        try:
            anchor = cls(int(seq), bytes.fromhex(digest))
        except ValueError:
            anchor = None
        if (anchor is None or not 1 <= anchor.seq < 2**63
                or len(anchor.hash) != len(GENESIS_HASH)):
            raise InvalidInput.one("anchor", "write it as SEQ:HASH, as `ehrlich audit head` "
                                   "prints it (a positive number, a colon, 64 hex digits)")
        return anchor


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken: int | None = None
    reason: str = ""


def _entry_hash(key: bytes, *, prev: bytes, seq: int, at: datetime, actor: str, action: str,
                target: str, detail: str) -> bytes:
    message = length_prefixed(prev, str(seq).encode(), at.isoformat().encode(),
                              actor.encode(), action.encode(), target.encode(), detail.encode())
    return hmac_sha256(key, message)


class AuditLog:
    def __init__(self, keyring: Keyring) -> None:
        self._key = keyring.audit_key
        self._verified: tuple[Anchor, datetime] | None = None  # last entry; last full walk
        self._verified_lock = threading.Lock()

    def record(self, session: Session, event: AuditEvent, *, now: datetime) -> None:
        self.record_many(session, [event], now=now)

    def record_many(self, session: Session, events: Iterable[AuditEvent], *,
                    now: datetime) -> None:
        """Append entries in the caller's transaction; the head row lock orders writers."""
        events = list(events)
        if not events:
            return
        conn = session.connection()
        seq, prev = conn.execute(_LOCK_HEAD).one()
        at = now
        rows = []
        for event in events:
            seq += 1
            detail = json.dumps(event.detail, sort_keys=True, separators=(",", ":")) \
                if event.detail else ""
            digest = _entry_hash(self._key, prev=prev, seq=seq, at=at, actor=event.actor,
                                 action=event.action, target=event.target, detail=detail)
            rows.append({"seq": seq, "at": at, "actor": event.actor, "action": event.action,
                         "target": event.target, "detail": detail, "prev_hash": prev,
                         "hash": digest})
            prev = digest
        conn.execute(_APPEND, rows)
        conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})

    def head(self, session: Session) -> Anchor:
        """The newest entry as an anchor (sequence 0 and zeros before the first entry)."""
        seq, digest = session.connection().execute(
            select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID)).one()
        return Anchor(seq, digest)

    def check_anchors(self, session: Session, anchors: Iterable[Anchor]) -> ChainReport:
        """`verify_chain`, and each anchored entry must still carry its anchored hash."""
        report = self.verify_chain(session)
        if not report.ok:
            return report
        for anchor in sorted(anchors, key=lambda a: a.seq):
            entry = session.get(AuditEntry, anchor.seq)
            if entry is None:
                return ChainReport(False, report.checked, anchor.seq,
                                   f"entry {anchor.seq}, which the anchor names, is gone")
            if not constant_time_equal(entry.hash, anchor.hash):
                return ChainReport(False, report.checked, anchor.seq,
                                   f"entry {anchor.seq} no longer has the anchored hash: the "
                                   "chain was rewritten from that entry or before it")
        return report

    def _hash_of(self, e: AuditEntry, *, prev: bytes | None = None) -> bytes:
        """The hash `e` should carry, after `prev` (by default the one it names)."""
        return _entry_hash(self._key, prev=e.prev_hash if prev is None else prev, seq=e.seq,
                           at=e.at, actor=e.actor, action=e.action, target=e.target,
                           detail=e.detail)

    def verify_chain(self, session: Session, *, batch: int = 5000,
                     after: Anchor | None = None) -> ChainReport:
        """Walk the whole chain in order (or the entries after the verified entry
        `after`, which must still carry its hash); report the first entry that is wrong."""
        expected_seq, prev, checked = 1, GENESIS_HASH, 0
        last_seq = 0
        if after is not None and after.seq > 0:
            kept = session.get(AuditEntry, after.seq)
            if kept is None or not (constant_time_equal(kept.hash, after.hash) and
                                    constant_time_equal(self._hash_of(kept), after.hash)):
                return ChainReport(False, 0, after.seq,
                                   f"entry {after.seq} was removed or altered after it was "
                                   "verified")
            expected_seq, prev, last_seq = after.seq + 1, after.hash, after.seq
        while True:
            entries = session.execute(
                select(AuditEntry).where(AuditEntry.seq >= expected_seq)
                .order_by(AuditEntry.seq).limit(batch)
            ).scalars().all()
            for e in entries:
                if e.seq != expected_seq:
                    return ChainReport(False, checked, expected_seq,
                                       f"entry {expected_seq} is missing")
                if not constant_time_equal(e.prev_hash, prev):
                    return ChainReport(False, checked, e.seq,
                                       f"entry {e.seq} does not follow entry {e.seq - 1} "
                                       "(removed, reordered or altered)")
                if not constant_time_equal(self._hash_of(e, prev=prev), e.hash):
                    return ChainReport(False, checked, e.seq, f"entry {e.seq} was altered")
                prev, last_seq = e.hash, e.seq
                expected_seq += 1
                checked += 1
            if len(entries) < batch:
                break
        head = session.get(AuditHead, HEAD_ID)
        if head is None or head.seq != last_seq or not constant_time_equal(head.hash, prev):
            return ChainReport(False, checked, last_seq + 1,
                               f"entries after {last_seq} were removed (the chain head says "
                               f"{head.seq if head else 'nothing'})")
        return ChainReport(True, checked)

    def verify_recent(self, session: Session, *, now: datetime) -> ChainReport:
        """`verify_chain` for a page shown often: the whole chain when this process has
        not walked it in `FULL_WALK_EVERY`, else the entries after the last verified one.
        `checked` counts every entry verified so far."""
        with self._verified_lock:
            verified = self._verified
        walk_all = verified is None or now - verified[1] >= FULL_WALK_EVERY
        after = None if walk_all or verified is None else verified[0]
        report = self.verify_chain(session, after=after)
        if not report.ok:
            with self._verified_lock:
                self._verified = None
            return report
        head = self.head(session)
        walked_at = now if walk_all or verified is None else verified[1]
        with self._verified_lock:
            self._verified = (head, walked_at)
        return ChainReport(True, head.seq)
