"""What the consent ledger keeps and ends when a person is erased.

The address stays suppressed for every purpose (blind index only), so no import or
API call enrols it again. Every consent still open ends with a `withdrawn` event by
the system: the history stays as non-personal tombstones (purpose, times, hashes),
the active counts drop at once, and a link the person kept shows nothing as "on".
Runs again for every ledger record after a restore; both steps are idempotent.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent
from ehrlich.consent.ledger.machine import OPEN
from ehrlich.consent.ledger.service import record_consents
from ehrlich.consent.ledger.suppression import suppress_everywhere
from ehrlich.consent.models import ConsentState
from ehrlich.consent.schemas import ConsentInput
from ehrlich.subjects.ledger import ErasureRecord

SYSTEM = "system"


def on_erasure(session: Session, record: ErasureRecord) -> list[AuditEvent]:
    """Erasure hook: suppress the address everywhere and end the person's open consents."""
    if record.email_index is not None:
        suppress_everywhere(session, record.email_index, reason="erased",
                            now=record.erased_at)
    open_consents = session.execute(select(ConsentState.purpose, ConsentState.channel).where(
        ConsentState.subject_id == record.subject_id, ConsentState.state.in_(OPEN))
        .order_by(ConsentState.purpose, ConsentState.channel)).all()
    entries: list[AuditEvent] = []
    record_consents(session, None, [ConsentInput(
        subject_id=record.subject_id, purpose=purpose, channel=channel,
        action="withdrawn", method=SYSTEM, extra={"reason": "erasure"})
        for purpose, channel in open_consents],
        actor=SYSTEM, now=record.erased_at, audit_events=entries)
    return entries
