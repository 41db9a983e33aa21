"""First grants in bulk: an import's new contacts with consent evidence.

`first_grants` builds and hashes the `granted` events before the write transaction
(each starts its chain: `none` → `active`), from one checked `ConsentInput` as the
template of what was shown and, per contact, its subject id and further proof;
`record_first_grants` then writes events, states, their counts and one audit entry
naming every event and its hash, in the transaction that creates the subjects.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.consent import counts
from ehrlich.consent.ledger.evidence import sha256_hex
from ehrlich.consent.ledger.service import GENESIS, HASHED_FIELDS, check_input, hashed_value
from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.consent.schemas import ConsentInput
from ehrlich.crypto.envelope import length_prefixed
from ehrlich.errors import InvalidInput
from ehrlich.storage.base import new_id
from ehrlich.storage.bulk_insert import insert_many

_EVENTS = cast(Table, ConsentEvent.__table__)
_STATES = cast(Table, ConsentState.__table__)
MAX_EXTRA = 20


@dataclass(frozen=True)
class FirstGrants:
    """`granted` events for new subjects, built and hashed before their transaction."""

    events: list[dict[str, Any]]
    states: list[dict[str, Any]]

    def only(self, subject_ids: set[str]) -> FirstGrants:
        """Those for these subjects (the ones a batch really created)."""
        keep = [i for i, e in enumerate(self.events) if e["subject_id"] in subject_ids]
        return FirstGrants([self.events[i] for i in keep], [self.states[i] for i in keep])

    def __add__(self, other: FirstGrants) -> FirstGrants:
        return FirstGrants(self.events + other.events, self.states + other.states)


def _proof(extra: Mapping[str, str]) -> str:
    """`extra` as stored, by the rules `ConsentInput.extra` checks."""
    if len(extra) > MAX_EXTRA or any(len(k) > 64 or len(v) > 500 for k, v in extra.items()):
        raise InvalidInput.one("extra", "at most 20 entries; keys at most 64 and values at "
                               "most 500 characters")
    return json.dumps(extra, sort_keys=True, separators=(",", ":")) if extra else ""


VARYING = ("id", "subject_id", "extra")


def grant_hasher(shared: Mapping[str, Any]) -> Callable[[str, str, str], bytes]:
    """`event_hash` (after GENESIS) of rows that differ from `shared` only in their id,
    subject id and stored proof, with the shared fields encoded once."""
    at = [HASHED_FIELDS.index(f) for f in VARYING]
    if at != [0, 1, len(HASHED_FIELDS) - 2]:
        raise AssertionError("the hashed fields moved; update grant_hasher")
    middle = length_prefixed(*(hashed_value(shared[f]) for f in HASHED_FIELDS[2:-2]))
    tail = length_prefixed(hashed_value(shared[HASHED_FIELDS[-1]]))

    def digest(event_id: str, subject_id: str, extra: str) -> bytes:
        message = (length_prefixed(GENESIS, event_id.encode(), subject_id.encode()) + middle
                   + length_prefixed(extra.encode()) + tail)
        return hashlib.sha256(message).digest()

    return digest


def first_grants(template: ConsentInput, subjects: Sequence[tuple[str, Mapping[str, str]]],
                 *, actor: str, now: datetime) -> FirstGrants:
    """`granted` as `template` says (its `subject_id` and `extra` aside) for each
    (subject id, further proof) of subjects that have no consent state yet. Pure: the
    caller records them with `record_first_grants` in the transaction that creates the
    subjects, having checked the addresses against the suppression list."""
    check_input(template)
    if template.action != "granted":
        raise InvalidInput.one("action", "only first grants can be recorded in bulk")
    text = template.text_shown
    shared: dict[str, Any] = {
        "purpose": template.purpose, "channel": template.channel, "action": "granted",
        "legal_basis": template.legal_basis, "notice_version": template.notice_version,
        "notice_hash": template.notice_hash, "language": template.language,
        "text_shown": text, "text_hash": sha256_hex(text) if text is not None else None,
        "form": template.form, "default_state": template.default_state,
        "method": template.method, "actor": actor, "at": now, "token_hash": None,
        "ip_network": None, "user_agent_hash": None, "sec_gpc": None,
        "prev_event_id": None, "prev_hash": GENESIS}
    digest = grant_hasher(shared)
    events: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    proofs: dict[tuple[tuple[str, str], ...], str] = {}  # a list's proofs repeat
    for subject_id, extra in subjects:
        seen = tuple(extra.items())
        proof = proofs.get(seen)
        if proof is None:
            proof = proofs[seen] = _proof(extra)
        row = {**shared, "id": new_id(), "subject_id": subject_id, "extra": proof}
        row["hash"] = digest(row["id"], subject_id, row["extra"])
        events.append(row)
        states.append({"subject_id": subject_id, "purpose": template.purpose,
                       "channel": template.channel, "state": "active", "since": now,
                       "notice_version": template.notice_version, "last_event_id": row["id"],
                       "last_event_hash": row["hash"]})
    return FirstGrants(events, states)


def record_first_grants(session: Session, audit: AuditLog, grants: FirstGrants, *,
                        now: datetime) -> list[str]:
    """Record prepared first grants: events, states, their counts and one audit entry
    naming every event and its hash. A state that exists after all makes the insert
    fail on its primary key, so nothing is recorded twice. Returns the event ids."""
    if not grants.events:
        return []
    conn = session.connection()
    insert_many(conn, _EVENTS, grants.events)
    insert_many(conn, _STATES, grants.states)
    counts.count_events(session, grants.events)
    counts.count_active(session, Counter((s["purpose"], s["channel"]) for s in grants.states))
    first = grants.events[0]
    audit.record(session, AuditEvent(first["actor"], "consent.granted_many",
                                     f"batch:{first['id']}", {
        "count": len(grants.events),
        "events": [[e["subject_id"], e["purpose"], e["channel"], e["id"], e["hash"].hex()]
                   for e in grants.events]}), now=now)
    return [e["id"] for e in grants.events]
