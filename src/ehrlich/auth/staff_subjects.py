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
from ehrlich.subjects.schemas import (
    BulkOutcome,
    CreateOutcome,
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
