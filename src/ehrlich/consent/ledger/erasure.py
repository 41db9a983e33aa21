"""What the consent ledger keeps and ends when a person is erased.

The address stays suppressed for every purpose (blind index only), so no import or
API call enrols it again. Every consent still open ends with a `withdrawn` event by
the system: the history stays as non-personal tombstones (purpose, times, hashes),
the active counts drop at once, and a link the person kept shows nothing as "on".
Runs again for every ledger record after a restore; both steps are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent
from ehrlich.consent.ledger.machine import OPEN
from ehrlich.consent.ledger.service import record_consents
from ehrlich.consent.ledger.suppression import suppress_everywhere_many
from ehrlich.consent.models import ConsentState
from ehrlich.consent.schemas import ConsentInput
from ehrlich.subjects.ledger import ErasureRecord
from ehrlich.subjects.service import batch_hook

SYSTEM = "system"
CHUNK = 500


def _on_erasure(session: Session, records: Sequence[ErasureRecord]) -> list[AuditEvent]:
    """Erasure hook: suppress the addresses everywhere and end the people's open consents
    (through the batch path, 500 people at a time)."""
    entries: list[AuditEvent] = []
    by_time: dict[datetime, list[ErasureRecord]] = {}
    for record in records:
        by_time.setdefault(record.erased_at, []).append(record)
    for erased_at, group in by_time.items():
        for start in range(0, len(group), CHUNK):
            chunk = group[start:start + CHUNK]
            suppress_everywhere_many(session, [r.email_index for r in chunk
                                               if r.email_index is not None],
                                     reason="erased", now=erased_at)
            open_consents = session.execute(
                select(ConsentState.subject_id, ConsentState.purpose, ConsentState.channel)
                .where(ConsentState.subject_id.in_([r.subject_id for r in chunk]),
                       ConsentState.state.in_(OPEN))
                .order_by(ConsentState.subject_id, ConsentState.purpose,
                          ConsentState.channel)).all()
            record_consents(session, None, [ConsentInput(
                subject_id=subject_id, purpose=purpose, channel=channel,
                action="withdrawn", method=SYSTEM, extra={"reason": "erasure"})
                for subject_id, purpose, channel in open_consents],
                actor=SYSTEM, now=erased_at, audit_events=entries)
    return entries


on_erasure = batch_hook(_on_erasure)
