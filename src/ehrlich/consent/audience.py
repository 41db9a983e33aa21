"""Who may be contacted for a purpose on a channel, streamed in batches of ids.

Active consent only; erased subjects and addresses suppressed for the purpose
are left out even if a state row says otherwise. Each batch is read in its own
short transaction (keyset pagination on the subject id), so a withdrawal that
commits while a mailing is being prepared applies to every later batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import and_, exists, select

from ehrlich.consent.models import ConsentState, Suppression
from ehrlich.errors import InvalidInput
from ehrlich.storage.database import Database
from ehrlich.subjects.models import STATE_ACTIVE, Subject
from ehrlich.subjects.service import SubjectsService

DEFAULT_BATCH = 1000


def stream_audience(db: Database, purpose: str, channel: str, *,
                    batch_size: int = DEFAULT_BATCH) -> Iterator[list[str]]:
    suppressed = exists().where(and_(Suppression.email_index == Subject.email_index,
                                     Suppression.purpose == purpose))
    query = (select(ConsentState.subject_id)
             .join(Subject, Subject.id == ConsentState.subject_id)
             .where(ConsentState.purpose == purpose, ConsentState.channel == channel,
                    ConsentState.state == "active", Subject.state == STATE_ACTIVE,
                    ~suppressed)
             .order_by(ConsentState.subject_id).limit(batch_size))
    after = ""
    while True:
        with db.read() as session:
            ids = list(session.execute(query.where(ConsentState.subject_id > after)).scalars())
        if ids:
            yield ids
        if len(ids) < batch_size:
            return
        after = ids[-1]


CONTACT_FIELD = {"email": "email", "sms": "phone", "phone": "phone"}


def contact_field(channel: str) -> str:
    try:
        return CONTACT_FIELD[channel]
    except KeyError:
        raise InvalidInput.one("channel", "audiences can be exported for email, sms or "
                               "phone") from None


def export_audience(db: Database, subjects: SubjectsService, purpose: str, channel: str, *,
                    actor: str, now: datetime, batch_size: int = DEFAULT_BATCH
                    ) -> Iterator[list[tuple[str, str]]]:
    """Batches of (subject id, address) for the audience, decrypted by the subjects
    service; each batch's disclosure is written to the audit chain."""
    field = contact_field(channel)
    for ids in stream_audience(db, purpose, channel, batch_size=batch_size):
        with db.write() as session:
            rows = subjects.contacts(session, ids, field=field, actor=actor,
                                     purpose=f"audience:{purpose}/{channel}", now=now)
        if rows:
            yield rows
