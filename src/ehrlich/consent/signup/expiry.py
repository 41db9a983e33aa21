"""Unconfirmed double opt-in requests expire (default after 30 days).

Each expiry is a consent event like any other (`expired`, method `system`),
recorded in batches of short transactions (`record_consents`: a few statements
each) so a large backlog never holds the write lock for long. Erasing the data of
people with no other basis left is the retention job's part, not this one's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ehrlich.audit.service import AuditLog
from ehrlich.consent.ledger.service import record_consents
from ehrlich.consent.models import ConsentState
from ehrlich.consent.schemas import ConsentInput
from ehrlich.storage.database import Database

ACTOR = "system:expiry"


def expire_unconfirmed(db: Database, audit: AuditLog, *, older_than: timedelta,
                       now: datetime, batch: int = 500) -> int:
    """Expire requests made before `now - older_than`; returns how many expired."""
    cutoff = now - older_than
    total = 0
    while True:
        with db.write() as session:
            keys = session.execute(
                select(ConsentState.subject_id, ConsentState.purpose, ConsentState.channel)
                .where(ConsentState.state == "requested", ConsentState.since <= cutoff)
                .order_by(ConsentState.since).limit(batch)).all()
            record_consents(session, audit, [ConsentInput(
                subject_id=subject_id, purpose=purpose, channel=channel, action="expired",
                method="system") for subject_id, purpose, channel in keys], actor=ACTOR, now=now)
        total += len(keys)
        if len(keys) < batch:
            return total
