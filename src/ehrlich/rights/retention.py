"""Retention: each purpose keeps a person only as long as the published notice declares
(GDPR Art. 5(1)(e)); people no purpose keeps any longer are erased.

Per purpose a person has records under (`consent.ledger.activity`):
- consent: an active consent keeps them; a request never confirmed keeps them for the
  confirmation period (`consent_confirm_days`), then it ends as `unconfirmed`; a consent
  that was given and then ended (withdrawn, objected, expired, renewal due) keeps them
  for the purpose's retention from that moment, then ends as `ended`;
- contract, legitimate interest, legal obligation, …: the retention from the person's
  last record under the purpose (as `rights.erasure` counts a legal obligation);
- a purpose the notice no longer declares keeps nobody (`undeclared`).
A person with no record under any purpose is kept for the longest retention the notice
declares from their last change, then goes as `no-purpose`. Without a published notice
nothing is erased: no retention is declared.

Erased people keep their consent proof as pseudonymous tombstones for
`consent_proof_years` after their last consent event; then it is deleted (`proof`).

`plan` is the dry run; `run` makes the same plan and carries it out, a batch at a time
(each re-checked just before) through the rights domain's erasure path (`erase_people`:
`erase_many` for whoever no legal obligation holds, `erase_person` for the rest), so
both agree for the same clock. Only subject ids (references) and counts leave this
module: never a name or an address, in a log line or in the audit entry.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.consent.ledger.activity import (
    PurposeActivity,
    forget_proof,
    proof_expired,
    purpose_activity,
)
from ehrlich.i18n import N_
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.schemas import Notice, Purpose
from ehrlich.notices.service import NoticesService
from ehrlich.rights.erasure import erase_people
from ehrlich.settings import Settings
from ehrlich.storage.database import Database
from ehrlich.subjects.service import ACTIVE, SUBJECT, SubjectsService

log = logging.getLogger("ehrlich.retention")
ACTOR = "system:retention"
Reason = Literal["unconfirmed", "ended", "undeclared", "no-purpose", "proof"]
REASON_LABELS: dict[str, str] = {
    "unconfirmed": N_("consent request never confirmed"),
    "ended": N_("declared retention over"),
    "undeclared": N_("purpose no longer in the notice"),
    "no-purpose": N_("no purpose recorded"),
    "proof": N_("consent proof kept as long as declared")}
NO_PURPOSE = "-"
BATCH = 500


@dataclass(frozen=True)
class Ending:
    """One purpose that no longer keeps the person: why, and since when."""

    purpose: str
    reason: Reason
    until: datetime


@dataclass(frozen=True)
class Departure:
    subject_id: str
    endings: tuple[Ending, ...]


@dataclass(frozen=True)
class RetentionPlan:
    """Who goes, and why, by purpose, at `at`. `notice` is the published version used
    (None: nothing published, nobody goes)."""

    at: datetime
    notice: int | None
    people: list[Departure] = field(default_factory=list)
    proofs: list[str] = field(default_factory=list)
    """Erased people whose consent proof is deleted."""

    def counts(self) -> list[tuple[str, str, int]]:
        """(purpose, reason, people), a person counted once under each purpose that ended."""
        tally = Counter((e.purpose, e.reason) for p in self.people for e in p.endings)
        tally.update({(NO_PURPOSE, "proof"): len(self.proofs)} if self.proofs else {})
        return sorted((purpose, reason, n) for (purpose, reason), n in tally.items())

    @property
    def subject_ids(self) -> list[str]:
        return [p.subject_id for p in self.people]


@dataclass(frozen=True)
class RetentionRun:
    plan: RetentionPlan
    erased: list[str]
    """Who was erased: the plan's people, less any erased meanwhile by someone else or
    kept again since the plan was made (checked just before)."""
    proof_events: int
    dry_run: bool


def _days(purpose: Purpose) -> timedelta:
    return timedelta(days=purpose.retention.period.days)


def ending_of(activity: PurposeActivity, purpose: Purpose | None, *, confirm: timedelta,
              now: datetime) -> Ending | None:
    """None while the purpose still keeps the person; else how it ended."""
    if purpose is None:
        return Ending(activity.purpose, "undeclared", activity.last_at)
    if purpose.legal_basis != "consent":
        until = activity.last_at + _days(purpose)
        return None if until > now else Ending(purpose.id, "ended", until)
    if activity.state == "active":
        return None
    if not activity.ever_given:
        until = activity.since + confirm if activity.state == "requested" else activity.since
        return None if until > now else Ending(purpose.id, "unconfirmed", until)
    until = activity.since + _days(purpose)
    return None if until > now else Ending(purpose.id, "ended", until)


def departure_of(subject_id: str, last_change: datetime, activities: Sequence[PurposeActivity],
                 notice: Notice, *, confirm: timedelta, now: datetime) -> Departure | None:
    """The person's departure, or None while any purpose keeps them."""
    if not activities:
        longest = max((_days(p) for p in notice.purposes), default=timedelta(0))
        until = last_change + longest
        return None if until > now else Departure(
            subject_id, (Ending(NO_PURPOSE, "no-purpose", until),))
    endings = []
    for activity in activities:
        ending = ending_of(activity, notice.purpose(activity.purpose), confirm=confirm, now=now)
        if ending is None:
            return None
        endings.append(ending)
    return Departure(subject_id, tuple(endings))


def _reason(person: Departure) -> str:
    """The audit entry's reason: which purposes ended, and why (references only)."""
    ended = ", ".join(sorted({f"{e.purpose}: {e.reason}" for e in person.endings}))
    return f"retention ({ended})"


class RetentionService:
    """The dry run (`plan`) and the run (`run`) of the declared retention periods."""

    def __init__(self, settings: Settings, subjects: SubjectsService, notices: NoticesService,
                 audit: AuditLog) -> None:
        self._confirm = timedelta(days=settings.consent_confirm_days)
        self._proof = timedelta(days=366 * settings.consent_proof_years)
        self._subjects = subjects
        self._notices = notices
        self._audit = audit

    def _batches(self, db: Database) -> Iterator[tuple[Session, list[tuple[str, datetime]]]]:
        after = ""
        while True:
            with db.read() as session:
                rows = [(sid, changed) for sid, changed in session.execute(
                    select(SUBJECT.id, SUBJECT.updated_at)
                    .where(SUBJECT.state == ACTIVE, SUBJECT.id > after)
                    .order_by(SUBJECT.id).limit(BATCH))]
                if rows:
                    yield session, rows
            if len(rows) < BATCH:
                return
            after = rows[-1][0]

    def _still_due(self, db: Database, people: Sequence[Departure], notice: Notice, *,
                   now: datetime) -> list[Departure]:
        """Of `people`, those still due now: whoever gave consent again (or was changed)
        since the plan was made stays."""
        ids = [p.subject_id for p in people]
        with db.read() as session:
            changed = dict(session.execute(select(SUBJECT.id, SUBJECT.updated_at).where(
                SUBJECT.id.in_(ids), SUBJECT.state == ACTIVE)).all())
            activity = purpose_activity(session, list(changed))
        return [p for p in people if p.subject_id in changed and departure_of(
            p.subject_id, changed[p.subject_id], activity.get(p.subject_id, []), notice,
            confirm=self._confirm, now=now) is not None]

    def plan(self, db: Database, *, now: datetime) -> RetentionPlan:
        """Who would go now, and why (the dry run); changes nothing."""
        return self._plan(db, now=now)[0]

    def _plan(self, db: Database, *, now: datetime) -> tuple[RetentionPlan, Notice | None]:
        with db.read() as session:
            try:
                published = self._notices.current(session)
            except NoticeNotPublished:
                return RetentionPlan(at=now, notice=None), None
            proofs: list[str] = []
            while True:  # everyone, also past the first batch
                found = proof_expired(session, before=now - self._proof, limit=BATCH,
                                      after=proofs[-1] if proofs else "")
                proofs += found
                if len(found) < BATCH:
                    break
        people = []
        for session, rows in self._batches(db):
            activity = purpose_activity(session, [sid for sid, _ in rows])
            for sid, changed in rows:
                gone = departure_of(sid, changed, activity.get(sid, []), published.notice,
                                    confirm=self._confirm, now=now)
                if gone is not None:
                    people.append(gone)
        return RetentionPlan(at=now, notice=published.info.number, people=people,
                             proofs=proofs), published.notice

    def _erase(self, db: Database, people: Sequence[Departure], notice: Notice | None, *,
               actor: str, now: datetime) -> list[str]:
        """Erase those of `people` still due (checked just before); who was erased."""
        due = self._still_due(db, people, notice, now=now) if notice else []
        return erase_people(db, self._subjects, self._notices, self._audit,
                            [(person.subject_id, _reason(person)) for person in due],
                            actor=actor, language="en", now=now)

    def run(self, db: Database, *, now: datetime, actor: str = ACTOR, dry_run: bool = False
            ) -> RetentionRun:
        """Make the plan and, unless `dry_run`, erase each person in it through the rights
        domain's erasure path and delete the expired consent proofs; one audit entry
        records the counts."""
        plan, notice = self._plan(db, now=now)
        if dry_run:
            return RetentionRun(plan=plan, erased=[], proof_events=0, dry_run=True)
        erased = []
        for start in range(0, len(plan.people), BATCH):
            erased += self._erase(db, plan.people[start:start + BATCH], notice, actor=actor,
                                  now=now)
        events = 0
        for start in range(0, len(plan.proofs), BATCH):
            with db.write() as session:
                events += forget_proof(session, plan.proofs[start:start + BATCH])
        with db.write() as session:
            self._audit.record(session, AuditEvent(actor, "retention.run", "retention", {
                "notice_version": plan.notice, "erased": len(erased),
                "proofs_deleted": len(plan.proofs), "proof_events": events,
                "by_purpose": [[p, r, n] for p, r, n in plan.counts()]}), now=now)
        if erased or plan.proofs:
            log.info("retention: %d people erased, consent proof of %d deleted",
                     len(erased), len(plan.proofs))
        return RetentionRun(plan=plan, erased=erased, proof_events=events, dry_run=False)
