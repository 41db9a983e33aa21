"""The contact list as the console pages through it: ciphertext rows, newest first.

Keyset pagination: a page is "the next `limit` rows after the last one shown", in
(created_at, id) order, never an OFFSET, so page 20,000 costs what page 1 costs.
Every filter is an index range or an index probe:

- signup date: a range on `ix_subjects_listing` (created_at, id);
- source: `ix_subjects_source_listing` (source, created_at, id). The source is a
  label of where data came from ("import 2026-03 fair", GDPR Art. 14(2)(f)), kept in
  plain text: it describes a channel, not a person, and the API documents it so;
- purpose state: a probe of `consent_states`' primary key per candidate row, built by
  the consent domain (`consent.person.state_probe`), which owns that table.

Rows carry ciphertext and the wrapped data key only; `SubjectsService.open_page`
decrypts one page in one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Select, Table, select, tuple_
from sqlalchemy.orm import Session

from ehrlich.subjects.errors import SubjectNotFound
from ehrlich.subjects.models import STATE_ACTIVE, DataKey, Subject

PAGE_SIZE = 50
_SUBJECTS = cast(Table, Subject.__table__)
_DATA_KEYS = cast(Table, DataKey.__table__)
# Given the subjects' id column, a condition on the person's consent (e.g. an EXISTS).
ConsentProbe = Callable[[ColumnElement[str]], ColumnElement[bool]]


@dataclass(frozen=True)
class ContactFilters:
    """What the list is narrowed to; None means any."""

    consent: ConsentProbe | None = None
    source: str | None = None
    since: date | None = None
    until: date | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _rows() -> Select[Any]:
    return (select(_SUBJECTS.c.id, _SUBJECTS.c.source, _SUBJECTS.c.created_at,
                   _SUBJECTS.c.email_ct, _SUBJECTS.c.phone_ct, _SUBJECTS.c.name_ct,
                   _DATA_KEYS.c.wrapped)
            .join(_DATA_KEYS, _DATA_KEYS.c.subject_id == _SUBJECTS.c.id)
            .where(_SUBJECTS.c.state == STATE_ACTIVE))


def contacts_page_query(filters: ContactFilters, *, after: tuple[datetime, str] | None,
                        limit: int = PAGE_SIZE) -> Select[Any]:
    """Active subjects matching `filters`, newest first, after the (created_at, id) given."""
    query = _rows()
    if filters.source is not None:
        query = query.where(_SUBJECTS.c.source == filters.source)
    if filters.since is not None:
        query = query.where(_SUBJECTS.c.created_at >= _day_start(filters.since))
    if filters.until is not None:
        query = query.where(_SUBJECTS.c.created_at
                            < _day_start(filters.until + timedelta(days=1)))
    if filters.consent is not None:
        query = query.where(filters.consent(_SUBJECTS.c.id))
    if after is not None:
        query = query.where(tuple_(_SUBJECTS.c.created_at, _SUBJECTS.c.id) < after)
    return query.order_by(_SUBJECTS.c.created_at.desc(), _SUBJECTS.c.id.desc()).limit(limit)


def cursor_of(session: Session, subject_id: str) -> tuple[datetime, str] | None:
    """The (created_at, id) position of the row a page ended with; None if unknown."""
    found = session.execute(select(_SUBJECTS.c.created_at).where(
        _SUBJECTS.c.id == subject_id)).scalar_one_or_none()
    return None if found is None else (found, subject_id)


def contacts_page(session: Session, filters: ContactFilters, *, after: str | None,
                  limit: int = PAGE_SIZE) -> list[Row[Any]]:
    """One page of ciphertext rows; `after` is the id of the last row of the page before."""
    position = cursor_of(session, after) if after else None
    if after and position is None:
        return []
    return list(session.execute(contacts_page_query(filters, after=position, limit=limit)))


def contacts_rows(session: Session, ids: list[str]) -> list[Row[Any]]:
    """The same rows for the ids a search found, newest first."""
    if not ids:
        return []
    return list(session.execute(_rows().where(_SUBJECTS.c.id.in_(ids)).order_by(
        _SUBJECTS.c.created_at.desc(), _SUBJECTS.c.id.desc())))


@dataclass(frozen=True)
class SubjectFacts:
    """What a subject's row says without decrypting anything."""

    id: str
    state: str
    erased_at: datetime | None
    email_index: bytes | None


def subject_facts(session: Session, subject_id: str) -> SubjectFacts:
    row = session.execute(select(_SUBJECTS.c.id, _SUBJECTS.c.state, _SUBJECTS.c.erased_at,
                                 _SUBJECTS.c.email_index)
                          .where(_SUBJECTS.c.id == subject_id[:64])).first()
    if row is None:
        raise SubjectNotFound(f"no subject with id {subject_id[:64]}")
    return SubjectFacts(row.id, row.state, row.erased_at, row.email_index)


def changed_since(session: Session, among: Select[Any], since: datetime) -> set[str]:
    """Of the subjects `among` selects (a query of ids, e.g. another domain's list of
    people it holds), the active ones whose fields changed after `since`: a
    rectification (creation and erasure also set `updated_at`; an erased subject is not
    active, and one created since is not among those held before). One query, however
    many are held."""
    return set(session.execute(select(_SUBJECTS.c.id).where(
        _SUBJECTS.c.id.in_(among.scalar_subquery()), _SUBJECTS.c.state == STATE_ACTIVE,
        _SUBJECTS.c.updated_at > since)).scalars())
