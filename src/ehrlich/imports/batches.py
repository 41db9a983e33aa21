"""Running an import: the rows not yet done, batch by batch.

Each batch is one short write transaction (at most `batch_size` rows, 200 by
default): the rows are parsed, checked, encrypted and their consent events
hashed before it begins, so the SQLite writer lock is held only for the
look-ups and inserts, and a signup arriving meanwhile waits for at most one
batch. The next batch's rows are read while this one commits
(`imports.readahead`), on the second core. Each transaction's hold is timed:
when one held the writer longer than `HOLD_AIM` (a busy machine), the next
batches shrink in proportion, and grow back to `batch_size` when holds are short
again (`next_batch_size`). The run's progress (`done_rows` and the counts) is
written in the batch's own transaction, so a crash leaves whole batches behind
and `run` resumes after the last one committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import cast

from sqlalchemy import Table as DbTable
from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent
from ehrlich.consent.ledger import suppression
from ehrlich.consent.ledger.bulk import FirstGrants, first_grants, record_first_grants
from ehrlich.consent.ledger.service import record_consents
from ehrlich.consent.schemas import ConsentInput
from ehrlich.consent.signup.service import PendingConfirmation
from ehrlich.errors import EhrlichError, InvalidInput, NotFound
from ehrlich.imports.core import ImportNotFound, ImportsCore, run_view
from ehrlich.imports.csvfile import Table
from ehrlich.imports.models import (
    STATUS_DONE,
    STATUS_FAILED,
    STATUS_RUNNING,
    ImportRejection,
    ImportRun,
)
from ehrlich.imports.readahead import ReadAhead
from ehrlich.imports.rows import Accepted, Rejected, RowReader
from ehrlich.imports.schemas import ImportPlan, RunView
from ehrlich.imports.uploads import discard_upload
from ehrlich.mail.interfaces import MailSender
from ehrlich.notices.service import ConsentOffer
from ehrlich.storage.bulk_insert import insert_many
from ehrlich.storage.database import Database
from ehrlich.subjects.service import Recipient

MIN_BATCH = 10
HOLD_AIM = 0.25
"""Seconds a batch's write transaction should hold the writer at most, well under the
one second a waiting signup may take."""
Progress = Callable[[RunView], None]
ANALYZED = ("subjects", "data_keys", "consent_events", "consent_states", "suppressions")
"""The tables an import grows: their statistics are renewed when it ends."""
_REJECTIONS = cast(DbTable, ImportRejection.__table__)
_RUNS = cast(DbTable, ImportRun.__table__)
_VIEW = [_RUNS.c[name] for name in RunView.model_fields]
COUNTED = ("created", "merged", "suppressed", "rejected", "with_evidence", "asked_again")
"""The run's counts a batch adds to."""
_ADD_BATCH = (update(_RUNS).where(_RUNS.c.id == bindparam("run_id"))
              .values(done_rows=bindparam("done"), updated_at=bindparam("now"),
                      **{name: _RUNS.c[name] + bindparam(f"add_{name}") for name in COUNTED})
              .returning(*_VIEW))
"""`_count`'s statement, built once: built per batch, it cost eight times its run."""


def next_batch_size(size: int, held: float, *, largest: int) -> int:
    """The next batch's size after a batch of `size` held the writer `held` seconds:
    scaled towards `HOLD_AIM` (at most doubled at once), within MIN_BATCH..largest."""
    scaled = int(size * min(2.0, HOLD_AIM / max(held, 1e-3)))
    return max(min(MIN_BATCH, largest), min(largest, scaled))


class ImportBatches(ImportsCore):
    """The running part of `ImportsService`."""

    def run(self, db: Database, run_id: str, table: Table, *, mail: MailSender,
            now: datetime, progress: Progress | None = None,
            stop_after: int | None = None) -> RunView:
        """Import the rows not yet done, batch by batch; resumable after a crash.
        `stop_after` ends after that many batches (the run stays resumable)."""
        with db.write() as session:
            run = self._run(session, run_id)
            if run.status == STATUS_DONE:
                return run_view(run)
            if run.total_rows != len(table.rows):
                raise InvalidInput.one("file", "is not the file this import was made for")
            run.status, run.updated_at, run.failure = STATUS_RUNNING, now, None
            plan = ImportPlan.model_validate_json(run.settings)
            start, actor = run.done_rows, run.actor
        reader = RowReader(table.header, plan, self._subjects, now=now)
        offers: dict[int | None, ConsentOffer] = {}
        batches, first, size = 0, start, self.batch_size
        ahead = ReadAhead(lambda row: reader.read(*row), table.rows[start:],
                          limit=self.batch_size)
        try:
            while first < len(table.rows):
                outcomes = ahead.take(size)
                first += len(outcomes)
                outcomes = self._with_offers(db, plan, outcomes, offers)
                view, held = self._batch(db, run_id, plan, outcomes, offers, mail,
                                         actor=actor, done=first, now=now,
                                         committing=ahead.meanwhile)
                size = next_batch_size(size, held, largest=self.batch_size)
                if progress is not None:
                    progress(view)
                batches += 1
                if stop_after is not None and batches >= stop_after:
                    return view
        except EhrlichError as exc:
            self._fail(db, run_id, exc.message, now=now)
            raise
        except Exception:
            self._fail(db, run_id, "the import stopped on an internal error; run it again "
                       "to resume after the last saved batch", now=now)
            raise
        finally:
            ahead.close()
        return self._finish(db, run_id, now=now)

    def _with_offers(self, db: Database, plan: ImportPlan,
                     outcomes: list[Accepted | Rejected],
                     offers: dict[int | None, ConsentOffer]) -> list[Accepted | Rejected]:
        """Rows whose notice version has no consent text for the purpose are rejected."""
        wanted = {o.evidence.notice_version for o in outcomes
                  if isinstance(o, Accepted) and o.evidence is not None} - set(offers)
        refused: dict[int | None, str] = {}
        if wanted:
            with db.read() as session:
                for version in wanted:
                    try:
                        offers[version] = self._notices.consent_offer(
                            session, plan.options.purpose, plan.options.language,
                            version=version)
                    except (NotFound, InvalidInput) as exc:
                        refused[version] = exc.message
        column = plan.evidence.version_column or "notice_version"
        return [Rejected(o.row, column, refused[o.evidence.notice_version])
                if isinstance(o, Accepted) and o.evidence is not None
                and o.evidence.notice_version in refused else o for o in outcomes]

    def _batch(self, db: Database, run_id: str, plan: ImportPlan,
               outcomes: Sequence[Accepted | Rejected],
               offers: dict[int | None, ConsentOffer], mail: MailSender, *, actor: str,
               done: int, now: datetime,
               committing: Callable[[], AbstractContextManager[None]] = nullcontext
               ) -> tuple[RunView, float]:
        """Commit one batch; the confirmation mails it asks for are queued in the same
        transaction, so a crash cannot keep the requests and lose their mails. The
        commit runs inside `committing()` (the next rows are read meanwhile). Also
        returns how long the transaction held the writer."""
        accepted = [o for o in outcomes if isinstance(o, Accepted)]
        rejected = [o for o in outcomes if isinstance(o, Rejected)]
        # Built before the write transaction, as if every row became a new contact; the
        # transaction keeps those of the rows it really created.
        grants = self._first_grants(run_id, plan, accepted, offers, actor=actor, now=now)
        pending: list[PendingConfirmation] = []
        with db.write() as session:
            began = time.perf_counter()
            blocked = suppression.suppressed_among(
                session, [a.email_index for a in accepted if a.email_index is not None],
                plan.options.purpose)
            kept = [a for a in accepted if a.email_index not in blocked]
            placed = self._subjects.place_prepared(session, [a.prepared for a in kept],
                                                   actor=actor, now=now)
            created = {p.subject_id for p in placed if p.created}
            granted = record_first_grants(session, self._audit, grants.only(created), now=now)
            merges: list[ConsentInput] = []
            new_without: list[tuple[str, str]] = []
            for row, place in zip(kept, placed, strict=True):
                if row.evidence is not None and not place.created:
                    merges.append(self._grant(run_id, plan, row, offers, place.subject_id))
                elif row.evidence is None and place.created and row.data.email:
                    new_without.append((place.subject_id, row.data.email))
            # known contacts: the state machine decides; a refusal means the contact's
            # own later choice stands
            record_consents(session, self._audit, merges, actor=actor, now=now,
                            skip_refused=True)
            merged_with_evidence = len(merges)
            if plan.options.ask_again and self._signups is not None:
                published = self._notices.current(session)
                for subject_id, email in new_without:
                    # the address was read from the uploaded file; the subjects service
                    # addresses the mail from here on
                    confirmation = self._signups.ask_again(
                        session, published, to=Recipient(subject_id, email),
                        purpose=plan.options.purpose, language=plan.options.language,
                        extra={"import": run_id, "reason": "re-permission"}, actor=actor,
                        now=now)
                    if confirmation is not None:
                        pending.append(confirmation)
                        self._signups.send_confirmation(mail, confirmation, now=now,
                                                        session=session)
            if rejected:
                insert_many(session.connection(), _REJECTIONS, [
                    {"run_id": run_id, "row": r.row, "field": r.field[:200],
                     "reason": r.reason[:500]} for r in rejected])
            view = self._count(session, run_id, done=done, now=now, created=len(created),
                               merged=len(placed) - len(created),
                               suppressed=len(accepted) - len(kept), rejected=len(rejected),
                               with_evidence=len(granted) + merged_with_evidence,
                               asked_again=len(pending))
            with committing():
                session.commit()
        return view, time.perf_counter() - began

    def _count(self, session: Session, run_id: str, *, done: int, now: datetime,
               **added: int) -> RunView:
        """A batch's progress, in its transaction: one UPDATE adding to the run's counts
        (no ORM load and flush of the run per batch); the run as it is now."""
        row = session.connection().execute(_ADD_BATCH, {
            "run_id": run_id, "done": done, "now": now,
            **{f"add_{name}": added[name] for name in COUNTED}}).one_or_none()
        if row is None:
            raise ImportNotFound(f"no import {run_id}")
        return RunView.model_validate(row._asdict())

    @staticmethod
    def _proof(run_id: str, row: Accepted) -> dict[str, str]:
        assert row.evidence is not None
        extra = {"import": run_id, "source": row.evidence.source}
        if row.evidence.given_at:
            extra["given_at"] = row.evidence.given_at
        return extra

    @staticmethod
    def _offered(offer: ConsentOffer, text: str | None, subject_id: str,
                 extra: dict[str, str]) -> ConsentInput:
        return ConsentInput(subject_id=subject_id, purpose=offer.purpose,
                            channel=offer.channel, action="granted",
                            method="import-with-evidence", notice_version=offer.notice_version,
                            notice_hash=offer.notice_hash, language=offer.language,
                            text_shown=text or offer.text, extra=extra)

    def _grant(self, run_id: str, plan: ImportPlan, row: Accepted,
               offers: dict[int | None, ConsentOffer], subject_id: str) -> ConsentInput:
        assert row.evidence is not None
        return self._offered(offers[row.evidence.notice_version], row.evidence.text,
                             subject_id, self._proof(run_id, row))

    def _first_grants(self, run_id: str, plan: ImportPlan, accepted: Sequence[Accepted],
                      offers: dict[int | None, ConsentOffer], *, actor: str, now: datetime
                      ) -> FirstGrants:
        """The grants of rows with evidence, one checked template per notice version
        and text shown (most files have one)."""
        groups: dict[tuple[int | None, str | None], list[tuple[str, dict[str, str]]]] = {}
        for row in accepted:
            if row.evidence is not None:
                groups.setdefault((row.evidence.notice_version, row.evidence.text), []).append(
                    (row.prepared.subject_id, self._proof(run_id, row)))
        grants = FirstGrants([], [])
        for (version, text), subjects in groups.items():
            template = self._offered(offers[version], text, *subjects[0])
            grants += first_grants(template, subjects, actor=actor, now=now)
        return grants

    def _finish(self, db: Database, run_id: str, *, now: datetime) -> RunView:
        with db.write() as session:
            run = self._run(session, run_id)
            run.status, run.finished_at, run.updated_at = STATUS_DONE, now, now
            run.wrapped_key = None  # shreds the sealed upload, wherever copies of it are
            self._audit.record(session, AuditEvent(run.actor, "import.finish", run_id, {
                "created": run.created, "merged": run.merged, "suppressed": run.suppressed,
                "rejected": run.rejected, "with_evidence": run.with_evidence,
                "asked_again": run.asked_again}), now=now)
            view = run_view(run)
        discard_upload(self._data_dir, run_id)
        db.analyze(ANALYZED)
        return view

    def _fail(self, db: Database, run_id: str, message: str, *, now: datetime) -> None:
        with db.write() as session:
            session.execute(update(ImportRun).where(ImportRun.id == run_id).values(
                status=STATUS_FAILED, failure=message[:500], updated_at=now))
