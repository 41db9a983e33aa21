"""Who may be contacted for a purpose on a channel, streamed in batches.

Active consent only; erased subjects and addresses suppressed for the purpose
are left out even if a state row says otherwise. Each batch is read in its own
short transaction (keyset pagination on the subject id), so a withdrawal that
commits while a mailing is being prepared applies to every later batch. An
export reads each batch's ciphertexts in the same query and has the subjects
service decrypt them and audit the disclosure.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TypeVarTuple

from sqlalchemy import Connection, Row, Select, and_, bindparam, exists, func, select
from sqlalchemy.orm import Session

from ehrlich.consent.models import ConsentEvent, ConsentState, Suppression
from ehrlich.errors import InvalidInput
from ehrlich.storage.database import Database
from ehrlich.subjects.service import ACTIVE, SUBJECT, SubjectsService, contacts_query

DEFAULT_BATCH = 1000
Ts = TypeVarTuple("Ts")


def _in_audience(query: Select[*Ts], purpose: str, channel: str,
                 notice_versions: Collection[int] | None = None) -> Select[*Ts]:
    """`query` joined to the consent state, kept to the audience: active consent, subject
    not erased, address not suppressed for the purpose."""
    suppressed = exists().where(and_(Suppression.email_index == SUBJECT.email_index,
                                     Suppression.purpose == purpose))
    query = (query.join(ConsentState, ConsentState.subject_id == SUBJECT.id)
             .where(ConsentState.purpose == purpose, ConsentState.channel == channel,
                    ConsentState.state == "active", SUBJECT.state == ACTIVE, ~suppressed))
    if notice_versions is not None:  # only consents given under these notice versions
        query = query.where(ConsentState.notice_version.in_(sorted(notice_versions)))
    return query


def _audience(query: Select[*Ts], purpose: str, channel: str, batch_size: int,
              notice_versions: Collection[int] | None = None) -> Select[*Ts]:
    return (_in_audience(query, purpose, channel, notice_versions)
            .where(ConsentState.subject_id > bindparam("after"))
            .order_by(ConsentState.subject_id).limit(batch_size))


def audience_sizes(session: Session) -> list[tuple[str, str, int]]:
    """(purpose, channel, people) of every audience, counted as `export_audience` selects
    them: active consent, subject not erased, address not suppressed for the purpose."""
    suppressed = exists().where(and_(Suppression.email_index == SUBJECT.email_index,
                                     Suppression.purpose == ConsentState.purpose))
    rows = session.execute(
        select(ConsentState.purpose, ConsentState.channel, func.count())
        .where(ConsentState.subject_id == SUBJECT.id, ConsentState.state == "active",
               SUBJECT.state == ACTIVE, ~suppressed)
        .group_by(ConsentState.purpose, ConsentState.channel)).all()
    return [(purpose, channel, int(n)) for purpose, channel, n in rows]


def _batches(db: Database, query: Select[*Ts], batch_size: int, after: str = ""
             ) -> Iterator[list[Row[*Ts]]]:
    while True:
        with db.read() as session:
            rows = list(session.connection().execute(query, {"after": after}).all())
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        after = rows[-1].id  # both queries start with the subject id


def stream_audience(db: Database, purpose: str, channel: str, *,
                    batch_size: int = DEFAULT_BATCH,
                    notice_versions: Collection[int] | None = None) -> Iterator[list[str]]:
    """Batches of the audience's subject ids (`notice_versions`: only consents given under
    those notice versions)."""
    query = _audience(select(SUBJECT.id), purpose, channel, batch_size, notice_versions)
    for rows in _batches(db, query, batch_size):
        yield [row[0] for row in rows]


CONTACT_FIELD: dict[str, str] = {"email": "email", "sms": "phone", "phone": "phone"}


def contact_field(channel: str) -> str:
    try:
        return CONTACT_FIELD[channel]
    except KeyError:
        raise InvalidInput.one("channel", "audiences can be exported for email, sms or "
                               "phone") from None


def export_audience(db: Database, subjects: SubjectsService, purpose: str, channel: str, *,
                    actor: str, now: datetime, batch_size: int = DEFAULT_BATCH,
                    batch: str | None = None, notice_versions: Collection[int] | None = None,
                    before_release: Callable[[list[str]], None] | None = None,
                    ) -> Iterator[list[tuple[str, str]]]:
    """Batches of (subject id, address) for the audience, decrypted by the subjects
    service; each batch's disclosure is written to the audit chain first (naming the
    subjects, or the `batch` reference of the file with a list of who was in the batch).

    `notice_versions` keeps only consents given under those notice versions;
    `before_release` is handed each batch's subject ids before they are decrypted
    (a disclosure log records them there)."""
    field = contact_field(channel)
    query = _audience(contacts_query(field), purpose, channel, batch_size, notice_versions)
    for rows in _batches(db, query, batch_size):
        if before_release is not None:
            before_release([row[0] for row in rows])
        yield subjects.disclose_contacts(db, rows, field=field, actor=actor,
                                         purpose=f"audience:{purpose}/{channel}", now=now,
                                         batch=batch)


def stream_audience_consents(db: Database, purpose: str, channel: str, *, after: str = "",
                             batch_size: int = DEFAULT_BATCH
                             ) -> Iterator[list[tuple[str, str | None]]]:
    """Batches of (subject id, the consent event that put them in the audience), in id
    order, starting after the subject id `after` (to resume)."""
    query = _audience(select(SUBJECT.id, ConsentState.last_event_id), purpose, channel,
                      batch_size)
    for rows in _batches(db, query, batch_size, after):
        yield [(row[0], row[1]) for row in rows]


def still_in_audience(db: Database, purpose: str, channel: str, subject_ids: Sequence[str],
                      *, notice_versions: Collection[int] | None = None
                      ) -> dict[str, str | None]:
    """Of these subjects, those in the audience now, each with the consent event that
    allows it: the per-batch re-check of a mailing under way."""
    if not subject_ids:
        return {}
    with db.read() as session:
        return still_in_audience_in(session.connection(), purpose, channel, subject_ids,
                                    notice_versions=notice_versions)


def still_in_audience_in(connection: Connection, purpose: str, channel: str,
                         subject_ids: Sequence[str], *,
                         notice_versions: Collection[int] | None = None
                         ) -> dict[str, str | None]:
    """`still_in_audience` in the caller's transaction (a hand-over that records what it
    checked in the same commit)."""
    query = _still_in_query(purpose, channel, None if notice_versions is None
                            else tuple(sorted(notice_versions)))
    ids = list(subject_ids)
    found: dict[str, str | None] = {}
    for start in range(0, len(ids), _CHECK_CHUNK):
        rows = connection.execute(query, {"ids": ids[start:start + _CHECK_CHUNK]}).all()
        found.update((row[0], row[1]) for row in rows)
    return found


_CHECK_CHUNK = 1000


@lru_cache(maxsize=64)
def _still_in_query(purpose: str, channel: str, notice_versions: tuple[int, ...] | None
                    ) -> Select[str, str | None]:
    """Built once per purpose and channel: a campaign checks every few messages. No
    order and no keyset bound: with them SQLite walks the whole audience in id order
    for any list of more than one id, instead of looking each id up."""
    return _in_audience(select(SUBJECT.id, ConsentState.last_event_id), purpose, channel,
                        notice_versions).where(SUBJECT.id.in_(bindparam("ids", expanding=True)))


def count_withdrawals(db: Database, purpose: str, channel: str, *, since: datetime,
                      among: Select[str]) -> int:
    """How many of the subjects `among` selects withdrew or objected to the purpose on the
    channel since `since` (a campaign's unsubscribes: counts only)."""
    query = (select(func.count(func.distinct(ConsentEvent.subject_id)))
             .where(ConsentEvent.purpose == purpose, ConsentEvent.channel == channel,
                    ConsentEvent.action.in_(("withdrawn", "objected")),
                    ConsentEvent.at >= since, ConsentEvent.subject_id.in_(among)))
    with db.read() as session:
        return int(session.execute(query).scalar_one())
