"""Who was read: the people whose data one actor (an API token, a member of staff) read in
a time window, from the audit chain, for scoping a breach (GDPR Art. 33(3)(a)).

Every read of personal data leaves an entry naming the person (`subject.read`,
`subject.lookup`, `subject.search`, `subject.view.masked`, `staff.reveal`,
`consent.history.read`, `rights.report`) or, for an audience's addresses, every person
in its detail (`subject.contacts.read` with `subjects`). A file recorded under a batch
reference (an export, a release to a recipient) is one entry with a count: those rows
are counted apart (`batch_rows`), since the chain does not say who they were.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.models import AuditEntry

PERSON_READS = ("subject.read", "subject.lookup", "subject.search", "subject.view.masked",
                "staff.reveal", "consent.history.read", "rights.report")
"""Actions whose target is the person read."""
LIST_READS = ("subject.contacts.read",)
"""Actions whose detail lists the people read (`subjects`) or counts a batch (`count`)."""
_NOT_A_PERSON = {"search"}  # `staff.reveal` of a search names no one; its hits follow


@dataclass(frozen=True)
class ReadScope:
    actor: str
    start: datetime
    end: datetime
    subjects: frozenset[str]
    """The people read, by subject id."""
    batch_rows: int
    """Rows read in files recorded under a batch reference (people not named)."""
    entries: int
    """Audit entries of the actor in the window that read personal data."""


def subjects_read(session: Session, *, actor: str, start: datetime, end: datetime,
                  batch: int = 5000) -> ReadScope:
    """The people `actor` read from `start` (inclusive) to `end` (exclusive)."""
    people: set[str] = set()
    batch_rows = entries = 0
    after = 0
    while True:
        rows = session.execute(
            select(AuditEntry.seq, AuditEntry.action, AuditEntry.target, AuditEntry.detail)
            .where(AuditEntry.actor == actor, AuditEntry.at >= start, AuditEntry.at < end,
                   AuditEntry.action.in_((*PERSON_READS, *LIST_READS)),
                   AuditEntry.seq > after)
            .order_by(AuditEntry.seq).limit(batch)).all()
        for _seq, action, target, detail in rows:
            entries += 1
            if action in PERSON_READS:
                if target not in _NOT_A_PERSON:
                    people.add(target)
                continue
            found = json.loads(detail) if detail else {}
            people.update(str(s) for s in found.get("subjects", ()))
            batch_rows += int(found.get("count", 0)) if "batch" in found else 0
        if len(rows) < batch:
            break
        after = rows[-1][0]
    return ReadScope(actor=actor, start=start, end=end, subjects=frozenset(people),
                     batch_rows=batch_rows, entries=entries)
