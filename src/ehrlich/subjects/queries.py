"""Queries on the subjects table that hold no plaintext: states, ids, blind indexes and
ciphertext, for the subjects service and for other domains to join on and narrow.

Built once at import: every read runs them, and statement construction is not free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, select
from sqlalchemy.orm import Session

from ehrlich.errors import InvalidInput
from ehrlich.subjects.models import STATE_ACTIVE, STATE_ERASED, DataKey, Subject

SUBJECTS_TABLE = cast(Table, Subject.__table__)
DATA_KEYS_TABLE = cast(Table, DataKey.__table__)
LOAD_SUBJECT = (select(SUBJECTS_TABLE, DATA_KEYS_TABLE.c.wrapped)
                .select_from(SUBJECTS_TABLE.outerjoin(DATA_KEYS_TABLE))
                .where(SUBJECTS_TABLE.c.id == bindparam("subject_id")))
"""A subject's row with its wrapped data key (None once erased)."""
LOAD_SUBJECT_FOR_UPDATE = LOAD_SUBJECT.with_for_update(of=SUBJECTS_TABLE)
CONTACT_FIELDS = ("email", "phone")


@dataclass(frozen=True)
class SubjectColumns:
    """The columns of the subjects table other domains may join on and filter by.

    Ids, states, sources, the time of the last change (for retention) and blind
    indexes only: a personal field reaches
    another domain only through `contacts_query` (as ciphertext) and
    `SubjectsService.disclose_contacts`, or addressed by `SubjectsService.send_mail`.
    """

    id: ColumnElement[str]
    state: ColumnElement[str]
    source: ColumnElement[str]
    email_index: ColumnElement[bytes | None]
    updated_at: ColumnElement[datetime]


ACTIVE: str = STATE_ACTIVE
ERASED: str = STATE_ERASED
"""The states of `SubjectColumns.state` and `subject_state`."""
SUBJECT = SubjectColumns(id=SUBJECTS_TABLE.c.id, state=SUBJECTS_TABLE.c.state,
                         source=SUBJECTS_TABLE.c.source, email_index=SUBJECTS_TABLE.c.email_index,
                         updated_at=SUBJECTS_TABLE.c.updated_at)
_STATE_OF = select(SUBJECTS_TABLE.c.state).where(SUBJECTS_TABLE.c.id == bindparam("subject_id"))


def subject_state(session: Session, subject_id: str) -> str | None:
    """`ACTIVE` or `ERASED`; None when there is no such subject."""
    found: str | None = session.connection().execute(
        _STATE_OF, {"subject_id": subject_id}).scalar_one_or_none()
    return found


def contacts_query(field: str) -> Select[str, bytes, bytes]:
    """(id, encrypted contact, wrapped data key) of active subjects that have the contact.

    Other domains narrow it (join, where, order, limit) and hand the rows back
    to `SubjectsService.disclose_contacts`; they never see plaintext.
    """
    if field not in CONTACT_FIELDS:
        raise InvalidInput.one("field", "must be email or phone")
    column = SUBJECTS_TABLE.c[f"{field}_ct"]
    return (select(SUBJECTS_TABLE.c.id, column, DATA_KEYS_TABLE.c.wrapped)
            .join(DATA_KEYS_TABLE, DATA_KEYS_TABLE.c.subject_id == SUBJECTS_TABLE.c.id)
            .where(SUBJECTS_TABLE.c.state == STATE_ACTIVE, column.is_not(None)))


def recipients_query() -> Select[str, bytes, bytes | None, bytes]:
    """(id, encrypted email, encrypted name, wrapped data key) of active subjects with an
    email address: `contacts_query("email")` with the name, for mail that greets the
    person. Other domains narrow it and hand the rows to `SubjectsService.recipients`."""
    return (select(SUBJECTS_TABLE.c.id, SUBJECTS_TABLE.c.email_ct, SUBJECTS_TABLE.c.name_ct,
                   DATA_KEYS_TABLE.c.wrapped)
            .join(DATA_KEYS_TABLE, DATA_KEYS_TABLE.c.subject_id == SUBJECTS_TABLE.c.id)
            .where(SUBJECTS_TABLE.c.state == STATE_ACTIVE, SUBJECTS_TABLE.c.email_ct.is_not(None)))
