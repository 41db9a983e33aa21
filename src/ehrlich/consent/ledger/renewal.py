"""Marking consents for renewal when a new notice changes their purpose.

`ConsentRenewalMarker.mark_for_renewal` has the signature of the notices
domain's renewal protocol: publishing a notice version that changes a
consent-based purpose records a `renewal-needed` event for every active
consent of it, in the publishing transaction, and returns how many people are
affected. Their consent stops counting as active until they confirm again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.consent import counts
from ehrlich.consent.ledger.service import event_hash
from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.storage.base import new_id

BATCH = 1000
ACTOR = "system:notice-publish"


class ConsentRenewalMarker:
    def __init__(self, audit: AuditLog, *, batch: int = BATCH) -> None:
        self._audit = audit
        self._batch = batch

    def _mark_batch(self, session: Session, states: list[ConsentState], *, notice_version: int,
                    now: datetime) -> None:
        rows: list[dict[str, Any]] = []
        for s in states:
            row: dict[str, Any] = {
                "id": new_id(), "subject_id": s.subject_id, "purpose": s.purpose,
                "channel": s.channel, "action": "renewal-needed", "legal_basis": "consent",
                "notice_version": notice_version, "notice_hash": None, "language": "und",
                "text_shown": None, "text_hash": None, "form": None,
                "default_state": "unticked", "method": "system", "actor": ACTOR, "at": now,
                "token_hash": None, "ip_network": None, "user_agent_hash": None,
                "sec_gpc": None, "extra": "", "prev_event_id": s.last_event_id,
                "prev_hash": s.last_event_hash}
            row["hash"] = event_hash(row, s.last_event_hash)
            rows.append(row)
        session.execute(insert(ConsentEvent), rows)
        counts.count_events(session, rows)
        leaving = Counter((s.purpose, s.channel) for s in states)  # active → renewal-needed
        counts.count_active(session, {key: -n for key, n in leaving.items()})
        for s, row in zip(states, rows, strict=True):
            session.execute(update(ConsentState).where(
                ConsentState.subject_id == s.subject_id, ConsentState.purpose == s.purpose,
                ConsentState.channel == s.channel).values(
                state="renewal-needed", since=now, last_event_id=row["id"],
                last_event_hash=row["hash"]))

    def mark_for_renewal(self, session: Session, purpose_ids: Sequence[str], *,
                         notice_version: int, now: datetime) -> int:
        """Record renewal-needed for every active consent of these purposes; returns
        the number of distinct people affected."""
        people: set[str] = set()
        for purpose in sorted(set(purpose_ids)):
            marked, after = 0, ("", "")
            while True:
                states = list(session.execute(
                    select(ConsentState).where(
                        ConsentState.purpose == purpose, ConsentState.state == "active",
                        (ConsentState.subject_id > after[0])
                        | ((ConsentState.subject_id == after[0])
                           & (ConsentState.channel > after[1])))
                    .order_by(ConsentState.subject_id, ConsentState.channel)
                    .limit(self._batch).with_for_update()).scalars())
                if not states:
                    break
                self._mark_batch(session, states, notice_version=notice_version, now=now)
                people.update(s.subject_id for s in states)
                marked += len(states)
                after = (states[-1].subject_id, states[-1].channel)
            self._audit.record(session, AuditEvent(ACTOR, "consent.renewal_needed", purpose, {
                "notice_version": notice_version, "consents": marked}), now=now)
        return len(people)

    def count_for_renewal(self, session: Session, purpose_ids: Sequence[str]) -> int:
        """The number `mark_for_renewal` would return now: distinct people with an active
        consent for any of these purposes (a read; nothing is marked)."""
        if not purpose_ids:
            return 0
        return session.execute(select(func.count(func.distinct(ConsentState.subject_id))).where(
            ConsentState.purpose.in_(sorted(set(purpose_ids))),
            ConsentState.state == "active")).scalar_one()
