"""Who may be contacted for a purpose on a channel, streamed in batches of ids.

Active consent only; erased subjects and addresses suppressed for the purpose
are left out even if a state row says otherwise. Each batch is read in its own
short transaction (keyset pagination on the subject id), so a withdrawal that
commits while a mailing is being prepared applies to every later batch.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import and_, exists, select

from ehrlich.consent.models import ConsentState, Suppression
from ehrlich.storage.database import Database
from ehrlich.subjects.models import STATE_ACTIVE, Subject

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
