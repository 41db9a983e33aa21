"""Who was read: the people whose data one actor (an API token, a member of staff) read in
a time window, from the audit chain, for scoping a breach (GDPR Art. 33(3)(a)).

Every read of personal data leaves an entry naming the person (`subject.read`,
`subject.lookup`, `subject.search`, `subject.view.masked`, `staff.reveal`,
`consent.history.read`, `rights.report`) or, for an audience's addresses, every person
in its detail (`subject.contacts.read` with `subjects`). A file recorded under a batch
reference (an export, a release to a recipient, an audience pulled over the API) has one
entry per batch with a count, the list that holds who was in it and the digest of that
list: given a way to read lists (`ListReader`, the subjects service's `read_list`), its
people are named too. Rows of entries without a list (written before lists were kept) or
read without one are counted apart (`batch_rows`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
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
ListReader = Callable[[Session, str, str], Sequence[str]]
"""(session, list id, digest) -> the subject ids of the list; raises if it was altered."""


@dataclass(frozen=True)
class ReadScope:
    actor: str
    start: datetime
    end: datetime
    subjects: frozenset[str]
    """The people read, by subject id."""
    batch_rows: int
    """Rows read in files recorded under a batch reference whose people are not named
    (entries without a list, or no `ListReader` given)."""
    entries: int
    """Audit entries of the actor in the window that read personal data."""


def subjects_read(session: Session, *, actor: str, start: datetime, end: datetime,
                  batch: int = 5000, lists: ListReader | None = None) -> ReadScope:
    """The people `actor` read from `start` (inclusive) to `end` (exclusive); with `lists`,
    also those in the lists that batch entries name."""
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
            if "batch" not in found:
                continue
            if lists is not None and "list" in found:
                people.update(lists(session, str(found["list"]), str(found["members"])))
            else:
                batch_rows += int(found.get("count", 0))
        if len(rows) < batch:
            break
        after = rows[-1][0]
    return ReadScope(actor=actor, start=start, end=end, subjects=frozenset(people),
                     batch_rows=batch_rows, entries=entries)
