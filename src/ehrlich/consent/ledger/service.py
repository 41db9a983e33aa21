"""Recording consent: one event appended, the current state updated, the audit chain
extended, all in the caller's transaction.

Each event carries the hash of the previous event for the same (subject,
purpose, channel), and its own hash is entered in the audit chain, so an
altered or removed consent event no longer matches the audit log.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.consent import counts
from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger import suppression
from ehrlich.consent.ledger.evidence import sha256_hex, stored_gpc, truncate_ip
from ehrlich.consent.ledger.machine import NO_CHANGE, REFUSED, Action, State, transition
from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.consent.schemas import ConsentEventView, ConsentInput, RecordOutcome
from ehrlich.crypto.envelope import length_prefixed
from ehrlich.errors import IntegrityFailure, InvalidInput
from ehrlich.storage.base import new_id
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
_KEY = (_STATES.c.subject_id == bindparam("key_subject"),
        _STATES.c.purpose == bindparam("key_purpose"),
        _STATES.c.channel == bindparam("key_channel"))
# Built once: a preference change records up to three events, and statement
# construction costs more than the statements themselves on SQLite.
_SUBJECT = select(SUBJECT.state, SUBJECT.email_index).where(
    SUBJECT.id == bindparam("subject_id"))
_STATE = select(_STATES.c.state, _STATES.c.last_event_id, _STATES.c.last_event_hash).where(*_KEY)
_LOCK_STATE = _STATE.with_for_update()
_NEW_STATE = insert(_STATES).values(
    subject_id=bindparam("key_subject"), purpose=bindparam("key_purpose"),
    channel=bindparam("key_channel"), state="none", since=bindparam("now"),
    last_event_hash=GENESIS)
_MOVE_STATE = update(_STATES).where(*_KEY).values(
    state=bindparam("new_state"), since=bindparam("now"),
    notice_version=bindparam("notice_version"), last_event_id=bindparam("event_id"),
    last_event_hash=bindparam("event_hash"))
_APPEND_EVENT = insert(_EVENTS)
SNAPSHOT_FIELDS = ("legal_basis", "notice_version", "notice_hash", "language", "text_shown",
                   "form")
_ASKED = select(*(_EVENTS.c[f] for f in SNAPSHOT_FIELDS)).where(
    _EVENTS.c.id == bindparam("event_id"))


# The subject and its locked state row in one round trip, when the row exists.
_SUBJECT_AND_STATE = (
    select(SUBJECT.state.label("subject_state"), SUBJECT.email_index)
    .join(_STATES, and_(_STATES.c.subject_id == SUBJECT.id,
                        _STATES.c.purpose == bindparam("key_purpose"),
                        _STATES.c.channel == bindparam("key_channel")))
    .add_columns(_STATES.c.state, _STATES.c.last_event_id, _STATES.c.last_event_hash)
    .where(SUBJECT.id == bindparam("key_subject")).with_for_update(of=_STATES))
StateRow = Row[str, str | None, bytes]
"""state, last_event_id, last_event_hash"""


def _lock_state(session: Session, key: dict[str, str], now: datetime) -> StateRow:
    row = session.connection().execute(_LOCK_STATE, key).first()
    if row is None:
        try:
            with session.begin_nested():  # the savepoint is taken by the next connection()
                session.connection().execute(_NEW_STATE, {**key, "now": now})
        except IntegrityError:
            pass  # created by a concurrent transaction; lock that one
        row = session.connection().execute(_LOCK_STATE, key).one()
    return row


def _snapshot(session: Session, data: ConsentInput, last_event_id: str | None
              ) -> dict[str, Any]:
    """What was shown: as given, or, for a confirmation, the request it confirms."""
    if data.action != "confirmed" or data.text_shown is not None or last_event_id is None:
        return {"legal_basis": data.legal_basis, "notice_version": data.notice_version,
                "notice_hash": data.notice_hash, "language": data.language,
                "text_shown": data.text_shown, "form": data.form}
    asked = session.connection().execute(_ASKED, {"event_id": last_event_id}).first()
    if asked is None:
        raise IntegrityFailure(f"consent event {last_event_id} named by the current "
                               "state is missing from the ledger")
    return dict(asked._mapping)


def _subject_and_state(session: Session, data: ConsentInput, key: dict[str, str],
                       now: datetime, *, by_person: bool) -> tuple[bytes | None, StateRow]:
    """The subject's email index and its locked state row (created when missing).

    An erased subject takes only ending actions (expiry, an administrator's
    withdrawal), and none at all from the person's own links (`by_person`):
    those outlive the erasure and must neither change nor record anything.
    """
    conn = session.connection()
    both = conn.execute(_SUBJECT_AND_STATE, key).first()
    subject = both if both is not None else conn.execute(
        _SUBJECT, {"subject_id": data.subject_id}).first()
    if subject is None:
        raise SubjectNotFound(f"no subject with id {data.subject_id}")
    subject_state = both.subject_state if both is not None else subject.state
    if subject_state == ERASED and (by_person or data.action not in ENDING_ACTIONS):
        raise SubjectErased(f"subject {data.subject_id} was erased")
    if both is not None:
        return both.email_index, cast(StateRow, both)  # has the state row's three columns
    return subject.email_index, _lock_state(session, key, now)


def record_consent(session: Session, audit: AuditLog | None, data: ConsentInput, *, actor: str,
                   now: datetime, audit_events: list[AuditEvent] | None = None
                   ) -> RecordOutcome:
    """Apply one consent action; raises `ConsentRefused`, `AddressSuppressed`, `InvalidInput`.

    With `audit_events`, the audit entry is appended there for the caller to
    record with the others of the same transaction (`AuditLog.record_many`);
    `audit` may then be None.
    """
    if audit is None and audit_events is None:
        raise TypeError("record_consent needs an audit log or a list for its audit entry")
    check_input(data)
    key = {"key_subject": data.subject_id, "key_purpose": data.purpose,
           "key_channel": data.channel}
    email_index, state = _subject_and_state(session, data, key, now,
                                            by_person=actor == PERSON)
    current: State = state.state
    outcome = transition(current, data.action)
    if outcome == REFUSED:
        raise ConsentRefused(f"cannot record {data.action!r} for {data.purpose}/{data.channel} "
                             f"while the consent is {current!r}")
    if outcome == NO_CHANGE:
        return RecordOutcome(event_id=None, state=current, changed=False)
    if data.action == "granted" and email_index is not None and suppression.is_suppressed(
            session, email_index, data.purpose):
        raise AddressSuppressed("this address unsubscribed or was erased; only the person "
                                "can opt in again, through double opt-in")
    snapshot = _snapshot(session, data, state.last_event_id)
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
        "prev_event_id": state.last_event_id, "prev_hash": state.last_event_hash,
    }
    row["hash"] = event_hash(row, state.last_event_hash)
    conn = session.connection()
    conn.execute(_APPEND_EVENT, [row])
    new_state: State = outcome
    conn.execute(_MOVE_STATE, {**key, "new_state": new_state, "now": now,
                               "notice_version": snapshot["notice_version"],
                               "event_id": row["id"], "event_hash": row["hash"]})
    counts.count_change(session, row, before=current, after=new_state)
    if email_index is not None:
        if data.action in ("withdrawn", "objected"):
            suppression.suppress(session, email_index, purpose=data.purpose,
                                 reason=data.action, now=now)
        elif data.action == "confirmed":
            suppression.lift(session, email_index, purpose=data.purpose)
    entry = AuditEvent(actor, f"consent.{data.action}", data.subject_id, {
        "purpose": data.purpose, "channel": data.channel, "event": row["id"],
        "hash": row["hash"].hex()})
    if audit_events is not None:
        audit_events.append(entry)
    elif audit is not None:
        audit.record(session, entry, now=now)
    return RecordOutcome(event_id=row["id"], state=new_state, changed=True)


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
