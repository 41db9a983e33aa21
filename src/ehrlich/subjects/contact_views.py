"""What the contacts console shows of people: masked pages and people, notes, counts.

Part of `SubjectsService` (the only holder of plaintext): masked values are still a
decryption, so each read is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent
from ehrlich.crypto import FieldCipher, FieldContext
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database
from ehrlich.subjects import counts
from ehrlich.subjects.core import SubjectsCore
from ehrlich.subjects.masking import mask_email, mask_name, mask_phone, mask_value
from ehrlich.subjects.models import SubjectNote
from ehrlich.subjects.schemas import MaskedContact, MaskedSubject, NoteInput, NoteView


class ContactViews(SubjectsCore):
    def open_page(self, db: Database, rows: Sequence[Row[Any]], *, actor: str, action: str,
                  now: datetime) -> list[MaskedContact]:
        """Masked email, phone and name of one page of `listing.contacts_page` rows.

        The data keys are unwrapped in one batch. Masked values are still a
        decryption, so one audit entry per page names a batch reference and
        every subject on it; it commits before the page is returned.
        """
        if not rows:
            return []
        keys = self._keyring.provider.unwrap_data_keys([(r.id, r.wrapped) for r in rows])
        found = []
        for row, key in zip(rows, keys, strict=True):
            cipher = FieldCipher(key)
            found.append(MaskedContact(
                id=row.id, source=row.source, created_at=row.created_at,
                email=mask_email(self._open(row, cipher, "email")),
                phone=mask_phone(self._open(row, cipher, "phone")),
                name=mask_name(self._open(row, cipher, "name"))))
        with db.write() as session:
            self._audit.record(session, AuditEvent(actor, action, f"batch:{new_id()}", {
                "count": len(found), "subjects": [c.id for c in found]}), now=now)
        return found

    def masked(self, session: Session, subject_id: str, *, actor: str,
               now: datetime) -> MaskedSubject:
        """One subject with every value masked; the decryption is audited."""
        subject, cipher = self._load(session, subject_id)
        view = self._view(subject, cipher)
        self._audit.record(session, AuditEvent(actor, "subject.view.masked", subject_id),
                           now=now)
        return MaskedSubject(
            id=view.id, source=view.source, created_at=view.created_at,
            obtained_at=view.obtained_at, updated_at=view.updated_at,
            email=mask_email(view.email), phone=mask_phone(view.phone),
            name=mask_name(view.name),
            attributes={k: mask_value(v) for k, v in view.attributes.items()})

    def add_note(self, session: Session, subject_id: str, note: NoteInput, *, actor: str,
                 now: datetime) -> str:
        """A staff note, sealed under the subject's data key (erasure shreds it)."""
        _, cipher = self._load(session, subject_id)
        note_id = new_id()
        body = cipher.encrypt(note.body, context=FieldContext(
            table="subject_notes", field="body", record_id=note_id, subject_id=subject_id))
        session.add(SubjectNote(id=note_id, subject_id=subject_id, author=actor,
                                created_at=now, body_ct=body))
        self._audit.record(session, AuditEvent(actor, "subject.note.add", subject_id,
                                               {"note": note_id}), now=now)
        return note_id

    def notes(self, session: Session, subject_id: str) -> list[NoteView]:
        """A subject's notes, newest first. Callers audit the read with their page."""
        _, cipher = self._load(session, subject_id)
        rows = session.execute(select(SubjectNote).where(SubjectNote.subject_id == subject_id)
                               .order_by(SubjectNote.created_at.desc(), SubjectNote.id.desc())
                               ).scalars().all()
        return [NoteView(id=n.id, author=n.author, created_at=n.created_at,
                         body=cipher.decrypt(n.body_ct, context=FieldContext(
                             table="subject_notes", field="body", record_id=n.id,
                             subject_id=subject_id)))
                for n in rows if n.body_ct is not None]

    def count_by_state(self, session: Session) -> dict[str, int]:
        """How many subjects are active and erased (no personal data), from the counts
        kept in the transactions that create and erase them."""
        return counts.by_state(session)

    def recount_by_state(self, session: Session) -> dict[str, int]:
        """`count_by_state` counted from the subjects table itself (a full scan)."""
        return counts.recount(session)

    def rebuild_counts(self, session: Session) -> None:
        """Recount the kept counts from the subjects table."""
        counts.rebuild(session)
