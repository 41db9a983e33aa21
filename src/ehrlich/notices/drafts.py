"""The notice draft edited in the console: one per instance, every save audited.

A new draft starts from the published source (comments included) or, before the
first version, from the example notice. `check_draft` gives every problem the
loader or the linter finds, each with its line, so a page can show them beside
the text; it never raises for a bad notice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.errors import InvalidInput
from ehrlich.notices.errors import NoticeInvalid, NoticeNotPublished
from ehrlich.notices.example import example_notice_text
from ehrlich.notices.models import NoticeDraft
from ehrlich.notices.schemas import Finding, Notice
from ehrlich.notices.service import NoticesService, check_notice

DRAFT_ID = 1
DRAFT_FILE = "draft.yaml"
MAX_DRAFT_CHARS = 200_000


@dataclass(frozen=True)
class Draft:
    source: str
    saved_at: datetime | None
    saved_by: str | None

    @property
    def sha256(self) -> str:
        """Identifies the text shown on a confirmation page, so a publish confirms it."""
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DraftCheck:
    findings: list[Finding]
    notice: Notice | None
    """The parsed notice when it loads (lint findings may still be errors)."""

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def publishable(self) -> bool:
        return self.notice is not None and self.errors == 0


def load_draft(session: Session, notices: NoticesService) -> Draft:
    """The saved draft, or a new one from the published source (or the example)."""
    row = session.get(NoticeDraft, DRAFT_ID)
    if row is not None:
        return Draft(row.source, row.saved_at, row.saved_by)
    try:
        return Draft(notices.current(session).source, None, None)
    except NoticeNotPublished:
        return Draft(example_notice_text(), None, None)


def save_draft(session: Session, audit: AuditLog, source: str, *, actor: str,
               now: datetime) -> Draft:
    """Store the draft text (audited with its hash, not its text)."""
    source = source.replace("\r\n", "\n")
    if len(source) > MAX_DRAFT_CHARS:
        raise InvalidInput.one("source", f"is longer than {MAX_DRAFT_CHARS} characters")
    if not source.strip():
        raise InvalidInput.one("source", "is empty")
    row = session.get(NoticeDraft, DRAFT_ID)
    if row is None:
        session.add(NoticeDraft(id=DRAFT_ID, source=source, saved_at=now, saved_by=actor))
    else:
        row.source, row.saved_at, row.saved_by = source, now, actor
    draft = Draft(source, now, actor)
    audit.record(session, AuditEvent(actor, "notice.draft_save", "notice:draft",
                                     {"sha256": draft.sha256}), now=now)
    return draft


def check_draft(source: str, *, language: str = "en") -> DraftCheck:
    """Loader and linter findings of the draft, in line order (the linter's in `language`)."""
    try:
        loaded, findings = check_notice(source, file=DRAFT_FILE, language=language)
    except NoticeInvalid as exc:
        return DraftCheck(exc.findings, None)
    return DraftCheck(findings, loaded.notice)
