"""Creating many subjects at once (imports): seal outside the write transaction, then
insert in one, placing rows whose email is already known with the subject that has it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent
from ehrlich.errors import InvalidInput
from ehrlich.storage.bulk_insert import insert_many
from ehrlich.storage.keys import KeysIn
from ehrlich.subjects import counts
from ehrlich.subjects.core import LOOKUP_CHUNK, SubjectsCore
from ehrlich.subjects.models import STATE_ACTIVE
from ehrlich.subjects.queries import DATA_KEYS_TABLE, SUBJECTS_TABLE
from ehrlich.subjects.schemas import BulkOutcome, SubjectInput


@dataclass(frozen=True)
class Placed:
    """Where a row of a bulk create went: a new subject, or the one with its email."""

    subject_id: str
    created: bool


@dataclass(frozen=True)
class PreparedSubject:
    """A new subject's rows, checked and sealed, waiting to be inserted."""

    email_index: bytes | None
    subject_row: dict[str, Any]
    key_row: dict[str, Any]

    @property
    def subject_id(self) -> str:
        return str(self.subject_row["id"])


_KNOWN_KEYS = KeysIn(SUBJECTS_TABLE.c.email_index)
_KNOWN = _KNOWN_KEYS.statements(
    lambda keys: select(SUBJECTS_TABLE.c.email_index, SUBJECTS_TABLE.c.id).where(keys))
"""The subjects among a batch's addresses (blind indexes), built once per database."""


class BulkCreation(SubjectsCore):
    def create_many(self, session: Session, rows: Sequence[SubjectInput], *, actor: str,
                    now: datetime) -> BulkOutcome:
        """Create subjects in one transaction; rows whose email is known are skipped."""
        placed = self.place_many(session, rows, actor=actor, now=now)
        created = sum(1 for p in placed if p.created)
        return BulkOutcome(created=created, duplicates=len(rows) - created)

    def place_many(self, session: Session, rows: Sequence[SubjectInput], *, actor: str,
                   now: datetime) -> list[Placed]:
        """Create subjects in one transaction; per row, the subject it created or, for
        an email already known (in the database or earlier in `rows`), the one it is."""
        prepared = []
        for number, data in enumerate(rows):
            try:
                prepared.append(self.prepare(data, now=now))
            except InvalidInput as exc:
                raise InvalidInput.one(f"rows[{number}].{exc.problems[0].field}",
                                       exc.problems[0].reason) from exc
        return self.place_prepared(session, prepared, actor=actor, now=now)

    def prepare(self, data: SubjectInput, *, now: datetime) -> PreparedSubject:
        """Check a new subject's email and phone as `create` does and seal its fields,
        without the database: bulk paths do this before their write transaction, so
        the encryption does not hold the writer lock."""
        if not data.email and not data.phone:
            raise InvalidInput.one("email", "an email address or a phone number is required")
        contact = self._contact(data.email, data.phone)
        subject_row, key_row = self._new_rows(data, contact, now)
        return PreparedSubject(contact.email_index, subject_row, key_row)

    def place_prepared(self, session: Session, prepared: Sequence[PreparedSubject], *,
                       actor: str, now: datetime) -> list[Placed]:
        """Insert prepared subjects in one transaction, except those whose email is
        known (in the database or earlier in `prepared`): those are placed with it."""
        known: dict[bytes, str] = {}
        indexes = sorted({p.email_index for p in prepared if p.email_index is not None})
        conn = session.connection()
        dialect = conn.dialect.name
        for start in range(0, len(indexes), LOOKUP_CHUNK):
            known.update((i, sid) for i, sid in conn.execute(
                _KNOWN[dialect], _KNOWN_KEYS.params(indexes[start:start + LOOKUP_CHUNK]))
                if i is not None)
        subject_rows, key_rows, placed = [], [], []
        for item in prepared:
            if item.email_index is not None and item.email_index in known:
                placed.append(Placed(known[item.email_index], created=False))
                continue
            subject_rows.append(item.subject_row)
            key_rows.append(item.key_row)
            placed.append(Placed(item.subject_id, created=True))
            if item.email_index is not None:
                known[item.email_index] = item.subject_id
        if subject_rows:
            insert_many(session.connection(), SUBJECTS_TABLE, subject_rows)
            insert_many(session.connection(), DATA_KEYS_TABLE, key_rows)
            counts.count(session, {STATE_ACTIVE: len(subject_rows)})
            # one entry for the batch, naming every subject it created
            ids = [row["id"] for row in subject_rows]
            self._audit.record(session, AuditEvent(
                actor, "subject.create_many", f"batch:{ids[0]}",
                {"count": len(ids), "subjects": ids}), now=now)
        return placed
