"""Erasure on request (GDPR Art. 17), as the self-service page and the staff queue run it.

Without a legal obligation to keep anything, the person is erased at once
through `SubjectsService.erase` (crypto-shredding: ledger, key deleted, fields
gone). A purpose with the basis `legal_obligation` that the person's records
name keeps its data categories until its declared retention ends (Art. 17(3)(b)),
counted from the person's last record under it. Then every open consent is
withdrawn, every field outside those categories is cleared at once, and the
outcome says what is kept, why and until when; the rest follows when that
retention ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.consent.ledger.service import history_rows
from ehrlich.consent.preferences.service import withdraw_all
from ehrlich.consent.schemas import Evidence
from ehrlich.errors import InvalidInput
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.service import NoticesService, PublishedNotice
from ehrlich.rights.schemas import ErasureOutcome, Hold
from ehrlich.storage.database import Database
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.subjects.schemas import SubjectChanges
from ehrlich.subjects.service import ERASED, SUBJECT, SubjectsService, subject_state

PERSONAL_FIELDS = ("email", "name", "phone")


def holds_of(events: Sequence[Row[Any]], published: PublishedNotice | None, *,
             language: str, now: datetime) -> list[Hold]:
    """The legal obligations that still keep some of the person's data."""
    if published is None:
        return []
    notice = published.notice
    found = []
    for purpose in notice.purposes:
        if purpose.legal_basis != "legal_obligation":
            continue
        times = [e.at for e in events if e.purpose == purpose.id]
        if not times:
            continue
        until = max(times) + timedelta(days=purpose.retention.period.days)
        if until > now:
            found.append(Hold(purpose=purpose.id,
                              title=purpose.title.get(language) or purpose.title["en"],
                              data_categories=list(purpose.data_categories), until=until))
    return found


def _published(session: Session, notices: NoticesService) -> PublishedNotice | None:
    try:
        return notices.current(session)
    except NoticeNotPublished:
        return None


def plan(session: Session, notices: NoticesService, subject_id: str, *, language: str,
         now: datetime) -> list[Hold]:
    """What an erasure of the person would have to keep (for the confirmation page)."""
    return holds_of(history_rows(session, subject_id), _published(session, notices),
                    language=language, now=now)


def erase_people(db: Database, subjects: SubjectsService, notices: NoticesService,
                 audit: AuditLog, people: Sequence[tuple[str, str]], *, actor: str,
                 language: str, now: datetime) -> list[str]:
    """`erase_person` for many (subject id, reason) pairs at once; who was erased now
    (or as far as a legal obligation allows), in the given order.

    Those no legal obligation holds go through `SubjectsService.erase_many` (one ledger
    transaction and one purge per chunk, grouped by reason); the few a hold keeps go
    through `erase_person` one at a time. Unknown and already erased ids are skipped.
    """
    ids = list(dict.fromkeys(sid for sid, _ in people))
    with db.read() as session:
        live: set[str] = set()
        for start in range(0, len(ids), 500):
            live.update(session.execute(select(SUBJECT.id).where(
                SUBJECT.id.in_(ids[start:start + 500]), SUBJECT.state != ERASED)).scalars())
        published = _published(session, notices)
        obliged = published is not None and any(
            p.legal_basis == "legal_obligation" for p in published.notice.purposes)
        held = {sid for sid in live if obliged and holds_of(
            history_rows(session, sid), published, language=language, now=now)}
    by_reason: dict[str, list[str]] = {}
    for sid, reason in people:
        if sid in live and sid not in held:
            by_reason.setdefault(reason, []).append(sid)
    done: set[str] = set()
    for reason, group in by_reason.items():
        done.update(subjects.erase_many(db, group, actor=actor, now=now, reason=reason))
    for sid, reason in people:
        if sid in held:
            try:
                erase_person(db, subjects, notices, audit, sid, actor=actor,
                             language=language, now=now, reason=reason)
            except (SubjectErased, SubjectNotFound):
                continue  # erased meanwhile: nothing left to do
            done.add(sid)
    return [sid for sid in ids if sid in done]


def erase_person(db: Database, subjects: SubjectsService, notices: NoticesService,
                 audit: AuditLog, subject_id: str, *, actor: str, language: str, now: datetime,
                 reason: str = "request") -> ErasureOutcome:
    """Erase the person now, or as far as no legal obligation keeps their data.
    `reason` goes into the audit entry (a request, or the retention rule that ended)."""
    with db.read() as session:
        state = subject_state(session, subject_id)
        if state is None:
            raise SubjectNotFound(f"no subject with id {subject_id}")
        if state == ERASED:
            raise SubjectErased(f"subject {subject_id} was erased")
        holds = plan(session, notices, subject_id, language=language, now=now)
    if not holds:
        subjects.erase(db, subject_id, actor=actor, now=now, reason=reason)
        return ErasureOutcome(erased=True)
    kept_categories = {c for hold in holds for c in hold.data_categories}
    with db.write() as session:
        person = subjects.get(session, subject_id, actor=actor, now=now, audited=False)
        withdraw_all(session, audit, subject_id,
                     evidence=Evidence(), now=now)
        cleared: dict[str, object] = {f: None for f in PERSONAL_FIELDS
                                      if f not in kept_categories and getattr(person, f)}
        attributes = {k: v for k, v in person.attributes.items() if k in kept_categories}
        if attributes != person.attributes:
            cleared["attributes"] = attributes
        kept = sorted({f for f in PERSONAL_FIELDS if getattr(person, f)} - set(cleared)
                      | set(attributes))
        if cleared:
            try:
                subjects.rectify(session, subject_id, SubjectChanges(**cleared),
                                 actor=actor, now=now)
            except InvalidInput:  # no contact left: the address stays with the kept data
                cleared.pop("email", None)
                kept = sorted({*kept, "email"})
                if cleared:
                    subjects.rectify(session, subject_id, SubjectChanges(**cleared),
                                     actor=actor, now=now)
    return ErasureOutcome(erased=False, holds=holds, kept_fields=kept)

