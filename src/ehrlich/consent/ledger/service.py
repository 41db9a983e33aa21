"""Recording consent: one event appended, the current state updated, the audit chain
extended, all in the caller's transaction; for many events at once (imports, expiry)
in a few statements (`record_consents`), by the same code the single path runs.

Each event carries the hash of the previous event for the same (subject,
purpose, channel), and its own hash is entered in the audit chain, so an
altered or removed consent event no longer matches the audit log.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, literal_column, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.consent import counts
from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger import suppression
from ehrlich.consent.ledger.evidence import sha256_hex, stored_gpc, truncate_ip
from ehrlich.consent.ledger.machine import NO_CHANGE, REFUSED, Action, State, transition
from ehrlich.consent.models import ALL_PURPOSES, ConsentEvent, ConsentState
from ehrlich.consent.schemas import ConsentEventView, ConsentInput, RecordOutcome
from ehrlich.crypto.envelope import length_prefixed
from ehrlich.errors import FieldProblem, IntegrityFailure, InvalidInput
from ehrlich.storage.base import new_id
from ehrlich.storage.upsert import PerDialect
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.subjects.service import ERASED, SUBJECT

GENESIS = bytes(32)
HASHED_FIELDS = ("id", "subject_id", "purpose", "channel", "action", "legal_basis",
                 "notice_version", "notice_hash", "language", "text_hash", "form",
                 "default_state", "method", "actor", "at", "token_hash", "ip_network",
                 "user_agent_hash", "sec_gpc", "extra", "prev_event_id")
# Which methods may carry which action; anything else is a caller's mistake.
METHODS_FOR: dict[Action, frozenset[str]] = {
    "requested": frozenset({"form", "api", "preference-centre", "admin"}),
    "confirmed": frozenset({"email-confirmation"}),
    "granted": frozenset({"form", "api", "import-with-evidence", "preference-centre",
                          "admin"}),
    "withdrawn": frozenset({"form", "api", "import-with-evidence", "email-confirmation",
                            "one-click-unsubscribe", "mail-request", "preference-centre",
                            "admin", "system"}),
    "expired": frozenset({"system", "admin"}),
    "renewal-needed": frozenset({"system", "admin"}),
    "objected": frozenset({"form", "api", "import-with-evidence", "one-click-unsubscribe",
                           "preference-centre", "admin"}),
}
ENDING_ACTIONS = frozenset({"withdrawn", "objected", "expired"})
PERSON = "subject"
"""The actor of changes the person makes through their links."""


def hashed_value(value: Any) -> bytes:
    """A field as `event_hash` encodes it."""
    return ("" if value is None else value.astimezone(UTC).isoformat()
            if isinstance(value, datetime) else str(value)).encode()


def event_hash(row: dict[str, Any], prev: bytes) -> bytes:
    parts = [prev] + [hashed_value(row[f]) for f in HASHED_FIELDS]
    return hashlib.sha256(length_prefixed(*parts)).digest()


def check_input(data: ConsentInput) -> None:
    if data.method not in METHODS_FOR[data.action]:
        raise InvalidInput.one("method", f"{data.method!r} cannot record {data.action!r}")
    if data.action in ("requested", "granted") and data.legal_basis == "consent":
        for field in ("notice_version", "notice_hash", "text_shown"):
            if getattr(data, field) is None:
                raise InvalidInput.one(field, "is required to prove consent")


_EVENTS = cast(Table, ConsentEvent.__table__)
_STATES = cast(Table, ConsentState.__table__)
# One state row by its key. `purpose || ''` and `channel || ''` are not columns an index
# can serve, so the only index left is the primary key by its first column: without them,
# and without fresh statistics, PostgreSQL took `ix_consent_states_audience` (purpose,
# channel, state, subject_id) and scanned every consent of the purpose (22 ms instead of
# 0.3 ms); one person has a handful of rows to filter.
_KEY = (_STATES.c.subject_id == bindparam("key_subject"),
        _STATES.c.purpose.op("||")(literal_column("''")) == bindparam("key_purpose"),
        _STATES.c.channel.op("||")(literal_column("''")) == bindparam("key_channel"))
# Built once: statement construction costs more than the statements themselves on SQLite.
_MOVE_STATE = update(_STATES).where(*_KEY).values(
    state=bindparam("new_state"), since=bindparam("now"),
    notice_version=bindparam("notice_version"), last_event_id=bindparam("event_id"),
    last_event_hash=bindparam("event_hash"))
_APPEND_EVENT = insert(_EVENTS)
SNAPSHOT_FIELDS = ("legal_basis", "notice_version", "notice_hash", "language", "text_shown",
                   "form")


# A batch's subjects with every consent state they hold, those states locked, in one round
# trip. Only `subject_id` is compared on `consent_states`: the primary key starts with it,
# while `ix_consent_states_audience` ends with it, so no planner, with or without fresh
# statistics, can take the audience index for one person's states.
_SUBJECTS_AND_STATES = (
    select(SUBJECT.id, SUBJECT.state.label("subject_state"), SUBJECT.email_index,
           _STATES.c.purpose, _STATES.c.channel, _STATES.c.state, _STATES.c.last_event_id,
           _STATES.c.last_event_hash)
    .join(_STATES, _STATES.c.subject_id == SUBJECT.id)
    .where(SUBJECT.id.in_(bindparam("subject_ids", expanding=True)))
    .order_by(_STATES.c.subject_id, _STATES.c.purpose, _STATES.c.channel)
    .with_for_update(of=_STATES))
_SUBJECTS = select(SUBJECT.id, SUBJECT.state, SUBJECT.email_index).where(
    SUBJECT.id.in_(bindparam("subject_ids", expanding=True)))
_STATES_OF = (
    select(_STATES.c.subject_id, _STATES.c.purpose, _STATES.c.channel, _STATES.c.state,
           _STATES.c.last_event_id, _STATES.c.last_event_hash)
    .where(_STATES.c.subject_id.in_(bindparam("subject_ids", expanding=True)))
    .order_by(_STATES.c.subject_id, _STATES.c.purpose, _STATES.c.channel)
    .with_for_update())
# A missing state row is created as "none" (what no row means); a row a concurrent
# transaction created meanwhile is kept, and read and locked instead.
_NEW_STATES = PerDialect(lambda insert: insert(_STATES).on_conflict_do_nothing().returning(
    _STATES.c.subject_id, _STATES.c.purpose, _STATES.c.channel))
_ASKED_MANY = select(_EVENTS.c.id, *(_EVENTS.c[f] for f in SNAPSHOT_FIELDS)).where(
    _EVENTS.c.id.in_(bindparam("event_ids", expanding=True)))
READ_CHUNK = 500
"""Ids per look-up: well under SQLite's limit of bound parameters."""

Key = tuple[str, str, str]
"""subject id, purpose, channel"""
Recorded = RecordOutcome | ConsentRefused | AddressSuppressed
"""An item's outcome in a batch; a refusal only with `skip_refused`."""


@dataclass
class _Slot:
    """A state row as the batch moves it along."""

    state: State
    last_event_id: str | None
    last_event_hash: bytes


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), READ_CHUNK):
        yield list(values[start:start + READ_CHUNK])


def _read_subjects(session: Session, items: Sequence[ConsentInput], *, by_person: bool
                   ) -> tuple[dict[str, tuple[str, bytes | None]], dict[Key, _Slot]]:
    """Each item's subject (state, email index) and the subjects' locked state rows.

    An erased subject takes only ending actions (expiry, an administrator's
    withdrawal), and none at all from the person's own links (`by_person`):
    those outlive the erasure and must neither change nor record anything.
    """
    conn = session.connection()
    ids = sorted({d.subject_id for d in items})
    subjects: dict[str, tuple[str, bytes | None]] = {}
    states: dict[Key, _Slot] = {}
    for chunk in _chunks(ids):
        for r in conn.execute(_SUBJECTS_AND_STATES, {"subject_ids": chunk}):
            subjects[r.id] = (r.subject_state, r.email_index)
            states[(r.id, r.purpose, r.channel)] = _Slot(r.state, r.last_event_id,
                                                         r.last_event_hash)
    without = [i for i in ids if i not in subjects]
    for chunk in _chunks(without):
        for r in conn.execute(_SUBJECTS, {"subject_ids": chunk}):
            subjects[r.id] = (r.state, r.email_index)
    for data in items:
        subject = subjects.get(data.subject_id)
        if subject is None:
            raise SubjectNotFound(f"no subject with id {data.subject_id}")
        if subject[0] == ERASED and (by_person or data.action not in ENDING_ACTIONS):
            raise SubjectErased(f"subject {data.subject_id} was erased")
    return subjects, states


def _add_missing_states(session: Session, keys: Sequence[Key], states: dict[Key, _Slot],
                        now: datetime) -> None:
    """Create (as "none") and lock the state rows of `keys` that do not exist yet."""
    missing = sorted(k for k in dict.fromkeys(keys) if k not in states)
    if not missing:
        return
    conn = session.connection()
    created = conn.execute(_NEW_STATES[conn.dialect.name], [
        {"subject_id": s, "purpose": p, "channel": c, "state": "none", "since": now,
         "notice_version": None, "last_event_id": None, "last_event_hash": GENESIS}
        for s, p, c in missing]).all()
    for r in created:
        states[(r.subject_id, r.purpose, r.channel)] = _Slot("none", None, GENESIS)
    raced = sorted({k[0] for k in missing if k not in states})
    for chunk in _chunks(raced):  # created by a concurrent transaction; lock that one
        for r in conn.execute(_STATES_OF, {"subject_ids": chunk}):
            states.setdefault((r.subject_id, r.purpose, r.channel),
                              _Slot(r.state, r.last_event_id, r.last_event_hash))


def _asked(session: Session, items: Sequence[ConsentInput], states: dict[Key, _Slot]
           ) -> dict[str, dict[str, Any]]:
    """What the requests that the batch's confirmations confirm showed, by event id."""
    wanted = sorted({slot.last_event_id for d in items
                     if d.action == "confirmed" and d.text_shown is None
                     and (slot := states[(d.subject_id, d.purpose, d.channel)]).last_event_id})
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(wanted):
        for r in session.connection().execute(_ASKED_MANY, {"event_ids": chunk}):
            found[r.id] = {f: r._mapping[f] for f in SNAPSHOT_FIELDS}
    return found


def _snapshot(data: ConsentInput, last_event_id: str | None,
              asked: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What was shown: as given, or, for a confirmation, the request it confirms."""
    if data.action != "confirmed" or data.text_shown is not None or last_event_id is None:
        return {"legal_basis": data.legal_basis, "notice_version": data.notice_version,
                "notice_hash": data.notice_hash, "language": data.language,
                "text_shown": data.text_shown, "form": data.form}
    shown = asked.get(last_event_id)
    if shown is None:
        raise IntegrityFailure(f"consent event {last_event_id} named by the current "
                               "state is missing from the ledger")
    return {f: shown[f] for f in SNAPSHOT_FIELDS}


def _event_row(data: ConsentInput, snapshot: Mapping[str, Any], slot: _Slot, *, actor: str,
               now: datetime) -> dict[str, Any]:
    text = snapshot["text_shown"]
    row: dict[str, Any] = {
        "id": new_id(), "subject_id": data.subject_id, "purpose": data.purpose,
        "channel": data.channel, "action": data.action, **snapshot,
        "text_hash": sha256_hex(text) if text is not None else None,
        "default_state": data.default_state, "method": data.method, "actor": actor, "at": now,
        "token_hash": sha256_hex(data.evidence.token) if data.evidence.token else None,
        "ip_network": truncate_ip(data.evidence.ip),
        "user_agent_hash": (sha256_hex(data.evidence.user_agent)
                            if data.evidence.user_agent else None),
        "sec_gpc": stored_gpc(data.evidence.sec_gpc),
        "extra": json.dumps(data.extra, sort_keys=True, separators=(",", ":"))
        if data.extra else "",
        "prev_event_id": slot.last_event_id, "prev_hash": slot.last_event_hash,
    }
    row["hash"] = event_hash(row, slot.last_event_hash)
    return row


def _checked(items: Sequence[ConsentInput], *, numbered: bool) -> None:
    """Every item's method and proof, before anything is read or written; in a batch the
    field is named with the item's place (`3.notice_hash`)."""
    for number, data in enumerate(items):
        try:
            check_input(data)
        except InvalidInput as exc:
            if not numbered:
                raise
            raise InvalidInput([FieldProblem(f"{number}.{p.field}", p.reason)
                                for p in exc.problems]) from None


def _refusal(data: ConsentInput, current: State, outcome: str, email_index: bytes | None,
             suppressed: set[tuple[bytes, str]]) -> ConsentRefused | AddressSuppressed | None:
    if outcome == REFUSED:
        return ConsentRefused(f"cannot record {data.action!r} for {data.purpose}/"
                              f"{data.channel} while the consent is {current!r}")
    if (outcome != NO_CHANGE and data.action == "granted" and email_index is not None
            and ((email_index, data.purpose) in suppressed
                 or (email_index, ALL_PURPOSES) in suppressed)):
        return AddressSuppressed("this address unsubscribed or was erased; only the person "
                                 "can opt in again, through double opt-in")
    return None


@dataclass
class _Writes:
    """What a batch writes, gathered in order and written at the end in a few statements."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    moved: dict[Key, dict[str, Any]] = field(default_factory=dict)
    active: Counter[tuple[str, str]] = field(default_factory=Counter)
    changes: list[suppression.Change] = field(default_factory=list)
    entries: list[AuditEvent] = field(default_factory=list)

    def add(self, data: ConsentInput, row: dict[str, Any], *, before: State, after: State,
            email_index: bytes | None, actor: str, now: datetime) -> None:
        self.rows.append(row)
        self.moved[(data.subject_id, data.purpose, data.channel)] = {
            "key_subject": data.subject_id, "key_purpose": data.purpose,
            "key_channel": data.channel, "new_state": after, "now": now,
            "notice_version": row["notice_version"], "event_id": row["id"],
            "event_hash": row["hash"]}
        self.active[(data.purpose, data.channel)] += (after == "active") - (before == "active")
        if email_index is not None:
            if data.action in ("withdrawn", "objected"):
                self.changes.append(suppression.Change(email_index, data.purpose, data.action))
            elif data.action == "confirmed":
                self.changes.append(suppression.Change(email_index, data.purpose, None))
        self.entries.append(AuditEvent(actor, f"consent.{data.action}", data.subject_id, {
            "purpose": data.purpose, "channel": data.channel, "event": row["id"],
            "hash": row["hash"].hex()}))

    def write(self, session: Session, audit: AuditLog | None, *, now: datetime,
              audit_events: list[AuditEvent] | None) -> None:
        if not self.rows:
            return
        conn = session.connection()
        conn.execute(_APPEND_EVENT, self.rows)
        conn.execute(_MOVE_STATE, list(self.moved.values()))
        counts.count_events(session, self.rows)
        counts.count_active(session, self.active)
        suppression.apply(session, self.changes, now=now)
        if audit_events is not None:
            audit_events.extend(self.entries)
        else:
            cast(AuditLog, audit).record_many(session, self.entries, now=now)  # see _record


def _record(session: Session, audit: AuditLog | None, items: Sequence[ConsentInput], *,
            actor: str, now: datetime, skip_refused: bool, numbered: bool,
            audit_events: list[AuditEvent] | None) -> list[Recorded]:
    if audit is None and audit_events is None:
        raise TypeError("recording consent needs an audit log or a list for its entries")
    _checked(items, numbered=numbered)
    if not items:
        return []
    subjects, states = _read_subjects(session, items, by_person=actor == PERSON)
    _add_missing_states(session, [(d.subject_id, d.purpose, d.channel) for d in items],
                        states, now)
    asked = _asked(session, items, states)
    suppressed = suppression.suppressed_pairs(session, {
        (e, d.purpose) for d in items
        if d.action == "granted" and (e := subjects[d.subject_id][1]) is not None})
    results: list[Recorded] = []
    writes = _Writes()
    for data in items:
        slot = states[(data.subject_id, data.purpose, data.channel)]
        current, email_index = slot.state, subjects[data.subject_id][1]
        outcome = transition(current, data.action)
        refusal = _refusal(data, current, outcome, email_index, suppressed)
        if refusal is not None:
            if not skip_refused:
                raise refusal
            results.append(refusal)
            continue
        if outcome == NO_CHANGE:
            results.append(RecordOutcome(event_id=None, state=current, changed=False))
            continue
        snapshot = _snapshot(data, slot.last_event_id, asked)
        row = _event_row(data, snapshot, slot, actor=actor, now=now)
        asked[row["id"]] = snapshot  # a later confirmation in the batch may confirm it
        new_state = cast(State, outcome)  # neither refused nor no change
        writes.add(data, row, before=current, after=new_state, email_index=email_index,
                   actor=actor, now=now)
        slot.state, slot.last_event_id, slot.last_event_hash = new_state, row["id"], row["hash"]
        if email_index is not None and data.action in ("withdrawn", "objected"):
            suppressed.add((email_index, data.purpose))
        elif email_index is not None and data.action == "confirmed":
            suppressed.discard((email_index, data.purpose))
        results.append(RecordOutcome(event_id=row["id"], state=new_state, changed=True))
    writes.write(session, audit, now=now, audit_events=audit_events)
    return results


def record_consents(session: Session, audit: AuditLog | None, items: Sequence[ConsentInput], *,
                    actor: str, now: datetime, skip_refused: bool = False,
                    audit_events: list[AuditEvent] | None = None) -> list[Recorded]:
    """Apply consent actions in order, as `record_consent` would one after another, in a
    few statements: one read of the subjects and their states, one insert of the events,
    one update of the states, and the counts, suppressions and audit entries (one per
    event, as the single path writes them) in one statement each.

    Every item is checked first: a bad one raises `InvalidInput` naming its place and
    field (`2.notice_hash`) before anything is read or written. A missing or wrongly
    erased subject raises before anything is written. A refused change raises
    `ConsentRefused` / `AddressSuppressed` before anything is written, or, with
    `skip_refused`, stands in that item's place of the returned list and the rest are
    recorded. Items may follow each other on the same subject, purpose and channel.
    With `audit_events`, the audit entries are appended there for the caller to record
    with others of the same transaction, and `audit` may be None.
    """
    return _record(session, audit, items, actor=actor, now=now, skip_refused=skip_refused,
                   numbered=True, audit_events=audit_events)


def record_consent(session: Session, audit: AuditLog | None, data: ConsentInput, *, actor: str,
                   now: datetime, audit_events: list[AuditEvent] | None = None
                   ) -> RecordOutcome:
    """Apply one consent action; raises `ConsentRefused`, `AddressSuppressed`, `InvalidInput`.

    The batch path with one item. With `audit_events`, the audit entry is appended
    there for the caller to record with the others of the same transaction
    (`AuditLog.record_many`), and `audit` may be None.
    """
    outcome = _record(session, audit, [data], actor=actor, now=now, skip_refused=False,
                      numbered=False, audit_events=audit_events)[0]
    assert isinstance(outcome, RecordOutcome)  # refusals were raised
    return outcome


_CURRENT = select(_STATES.c.state).where(*_KEY)


def current_state(session: Session, subject_id: str, purpose: str, channel: str) -> State:
    found = session.connection().execute(_CURRENT, {
        "key_subject": subject_id, "key_purpose": purpose, "key_channel": channel}
    ).scalar_one_or_none()
    return found or "none"


# Built once; read as plain rows: ORM objects cost several times more for a long history.
_HISTORY = select(_EVENTS).where(_EVENTS.c.subject_id == bindparam("subject_id"))


def _view(e: ConsentEvent | Row[Any]) -> ConsentEventView:
    return ConsentEventView(
        id=e.id, subject_id=e.subject_id, purpose=e.purpose, channel=e.channel,
        action=e.action, legal_basis=e.legal_basis, notice_version=e.notice_version,
        notice_hash=e.notice_hash, language=e.language, text_shown=e.text_shown,
        text_hash=e.text_hash, form=e.form, default_state=e.default_state, method=e.method,
        actor=e.actor, at=e.at, token_hash=e.token_hash, ip_network=e.ip_network,
        user_agent_hash=e.user_agent_hash, sec_gpc=e.sec_gpc,
        extra=json.loads(e.extra) if e.extra else {}, prev_event_id=e.prev_event_id,
        hash=e.hash.hex())


def history_rows(session: Session, subject_id: str) -> list[Row[Any]]:
    """A subject's consent-event rows in the order of `history`, for a reader that makes
    its own view of many events at once (the access report)."""
    events = session.connection().execute(_HISTORY, {"subject_id": subject_id}).all()
    # Within one (purpose, channel) the chain decides the order (timestamps may tie);
    # the chains are then merged by time.
    ids = {e.id for e in events}
    by_prev = {e.prev_event_id: e for e in events if e.prev_event_id is not None}
    chains: list[list[Row[Any]]] = []
    for first in (e for e in events if e.prev_event_id not in ids):
        chain: list[Row[Any]] = []
        cursor: Row[Any] | None = first
        while cursor is not None and len(chain) <= len(events):
            chain.append(cursor)
            cursor = by_prev.get(cursor.id)
        chains.append(chain)
    return list(heapq.merge(*chains, key=lambda e: e.at))


def history(session: Session, subject_id: str) -> list[ConsentEventView]:
    """Every consent event of a subject, oldest first."""
    return [_view(e) for e in history_rows(session, subject_id)]


def verify_chain(session: Session, subject_id: str, purpose: str, channel: str) -> bool:
    """True when every event for the key hashes correctly and links to the one before."""
    state = session.execute(select(ConsentState).where(
        ConsentState.subject_id == subject_id, ConsentState.purpose == purpose,
        ConsentState.channel == channel)).scalar_one_or_none()
    if state is None:
        return True
    by_id = {e.id: e for e in session.execute(select(ConsentEvent).where(
        ConsentEvent.subject_id == subject_id, ConsentEvent.purpose == purpose,
        ConsentEvent.channel == channel)).scalars()}
    cursor, expected, seen = state.last_event_id, state.last_event_hash, 0
    while cursor is not None:
        event = by_id.get(cursor)
        if event is None or event.hash != expected:
            return False
        row = {f: getattr(event, f) for f in HASHED_FIELDS}
        if event_hash(row, event.prev_hash) != event.hash:
            return False
        cursor, expected, seen = event.prev_event_id, event.prev_hash, seen + 1
    return expected == GENESIS and seen == len(by_id)
