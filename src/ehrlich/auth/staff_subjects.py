"""The subjects service as staff reach it: every operation checks the role first, and
revealing a contact's data needs a stated reason, which is audited with the read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth.roles import Permission, Role, require
from ehrlich.errors import InvalidInput
from ehrlich.storage.database import Database
from ehrlich.subjects.listing import PAGE_SIZE, ContactFilters, contacts_page, contacts_rows
from ehrlich.subjects.schemas import (
    BulkOutcome,
    CreateOutcome,
    MaskedContact,
    MaskedSubject,
    NoteInput,
    NoteView,
    SubjectChanges,
    SubjectInput,
    SubjectView,
)
from ehrlich.subjects.service import SubjectsService

MIN_REASON_CHARS = 10


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise InvalidInput.one("reason", f"say why you need to see this contact's data "
                                         f"(at least {MIN_REASON_CHARS} characters)")
    return text[:300]


class StaffSubjects:
    """One instance per request: who acts, in which role."""

    def __init__(self, subjects: SubjectsService, audit: AuditLog, *, user_id: str,
                 role: Role | str) -> None:
        self._subjects = subjects
        self._audit = audit
        self._actor = f"staff:{user_id}"
        self._role = Role(role)

    def _reveal(self, session: Session, target: str, reason: str | None,
                now: datetime) -> None:
        require(self._role, Permission.SUBJECTS_REVEAL)
        self._audit.record(session, AuditEvent(self._actor, "staff.reveal", target,
                                               {"reason": _reason(reason)}), now=now)

    def create(self, session: Session, data: SubjectInput, *, now: datetime) -> CreateOutcome:
        require(self._role, Permission.SUBJECTS_CREATE)
        return self._subjects.create(session, data, actor=self._actor, now=now)

    def create_many(self, session: Session, rows: Sequence[SubjectInput], *,
                    now: datetime) -> BulkOutcome:
        require(self._role, Permission.SUBJECTS_IMPORT)
        return self._subjects.create_many(session, rows, actor=self._actor, now=now)

    def get(self, session: Session, subject_id: str, *, reason: str | None,
            now: datetime) -> SubjectView:
        self._reveal(session, subject_id, reason, now)
        return self._subjects.get(session, subject_id, actor=self._actor, now=now)

    def find(self, session: Session, *, email: str | None = None, phone: str | None = None,
             reason: str | None, now: datetime) -> list[SubjectView]:
        self._reveal(session, "search", reason, now)
        return self._subjects.find(session, email=email, phone=phone, actor=self._actor, now=now)

    def rectify(self, session: Session, subject_id: str, changes: SubjectChanges, *,
                now: datetime) -> SubjectView:
        require(self._role, Permission.SUBJECTS_RECTIFY)
        return self._subjects.rectify(session, subject_id, changes, actor=self._actor, now=now)

    def erase(self, db: Database, subject_id: str, *, reason: str, now: datetime) -> None:
        require(self._role, Permission.SUBJECTS_ERASE)
        self._subjects.erase(db, subject_id, actor=self._actor, now=now, reason=_reason(reason))

    # -- the console -----------------------------------------------------------------

    def list_page(self, db: Database, filters: ContactFilters, *, after: str | None,
                  now: datetime) -> tuple[list[MaskedContact], bool]:
        """One page of the contact list, masked, and whether more follow; one audit entry
        for the page."""
        require(self._role, Permission.SUBJECTS_LIST)
        with db.read() as session:
            rows = contacts_page(session, filters, after=after, limit=PAGE_SIZE + 1)
        found = self._subjects.open_page(db, rows[:PAGE_SIZE], actor=self._actor,
                                         action="subject.list.read", now=now)
        return found, len(rows) > PAGE_SIZE

    def search(self, db: Database, *, email: str | None = None, phone: str | None = None,
               now: datetime) -> list[MaskedContact]:
        """Exact search by email or phone (blind index), masked; one audit entry."""
        require(self._role, Permission.SUBJECTS_LIST)
        with db.read() as session:
            ids = self._subjects.search_ids(session, email=email, phone=phone)
            rows = contacts_rows(session, ids)
        return self._subjects.open_page(db, rows, actor=self._actor, action="subject.search",
                                        now=now)

    def masked(self, session: Session, subject_id: str, *, now: datetime) -> MaskedSubject:
        require(self._role, Permission.SUBJECTS_LIST)
        return self._subjects.masked(session, subject_id, actor=self._actor, now=now)

    def notes(self, session: Session, subject_id: str) -> list[NoteView]:
        require(self._role, Permission.SUBJECTS_LIST)
        return self._subjects.notes(session, subject_id)

    def add_note(self, session: Session, subject_id: str, note: NoteInput, *,
                 now: datetime) -> str:
        require(self._role, Permission.SUBJECTS_NOTE)
        return self._subjects.add_note(session, subject_id, note, actor=self._actor, now=now)

    def export(self, session: Session, subject_id: str, *, now: datetime
               ) -> tuple[SubjectView, list[NoteView]]:
        """The person's data for a copy (GDPR Art. 15(3), 20). Not audited here: the caller
        records the copy (who, why, where, until when) in the copies register, in the same
        transaction, before it is handed out."""
        require(self._role, Permission.SUBJECTS_EXPORT)
        view = self._subjects.get(session, subject_id, actor=self._actor, now=now,
                                  audited=False)
        return view, self._subjects.notes(session, subject_id)
