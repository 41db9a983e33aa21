"""Importing an existing list: check the plan, then run it in batches.

Each batch is one short write transaction (at most `batch_size` rows, 200 by
default): the rows are parsed, checked, encrypted and their consent events
hashed before it begins, so the SQLite writer lock is held only for the
look-ups and inserts, and a signup arriving meanwhile waits for at most one
batch. Each transaction's hold is timed: when one held the writer longer than
`HOLD_AIM` (a busy machine), the next batches shrink in proportion, and grow
back to `batch_size` when holds are short again (`next_batch_size`). The run's
progress (`done_rows` and the counts) is written in the batch's own transaction,
so a crash leaves whole batches behind and `run` resumes after the last one committed.

Per row, in this order: a row the API would refuse is rejected (row number,
column, reason — no values); an address on the suppression list for the
purpose (or for all) is skipped and counted; an address already known, in the
database or earlier in the file, is merged into that contact (its data is
left as it is); anything else becomes a new contact. Rows with evidence get a
`granted` consent event (method `import-with-evidence`) with the notice
version's text; rows without evidence come in without consent and, when
asked for, new ones get a re-permission mail (double opt-in with the
published text), sent after their batch commits.
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger import suppression
from ehrlich.consent.ledger.bulk import FirstGrants, first_grants, record_first_grants
from ehrlich.consent.ledger.service import record_consent
from ehrlich.consent.schemas import ConsentInput
from ehrlich.consent.signup.service import PendingConfirmation, SignupService
from ehrlich.crypto import Keyring
from ehrlich.errors import Conflict, EhrlichError, InvalidInput, NotFound
from ehrlich.imports.csvfile import Table, read_table
from ehrlich.imports.models import (
    STATUS_DONE,
    STATUS_DRAFT,
    STATUS_FAILED,
    STATUS_READY,
    STATUS_RUNNING,
    ImportRejection,
    ImportRun,
)
from ehrlich.imports.rows import Accepted, Rejected, RowReader
from ehrlich.imports.schemas import ColumnMapping, EvidenceMapping, ImportPlan, RunView
from ehrlich.imports.uploads import discard_upload, open_upload, seal_upload
from ehrlich.mail.interfaces import MailSender
from ehrlich.notices.service import ConsentOffer, NoticesService
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database
from ehrlich.subjects.service import Recipient, SubjectsService

BATCH_SIZE = 200
MIN_BATCH = 10
HOLD_AIM = 0.25
"""Seconds a batch's write transaction should hold the writer at most, well under the
one second a waiting signup may take."""
DRAFT_LIFETIME = timedelta(days=1)
FAILED_LIFETIME = timedelta(days=7)
PREVIEW_ROWS = 5
Progress = Callable[[RunView], None]


def next_batch_size(size: int, held: float, *, largest: int) -> int:
    """The next batch's size after a batch of `size` held the writer `held` seconds:
    scaled towards `HOLD_AIM` (at most doubled at once), within MIN_BATCH..largest."""
    scaled = int(size * min(2.0, HOLD_AIM / max(held, 1e-3)))
    return max(min(MIN_BATCH, largest), min(largest, scaled))


class ImportNotFound(NotFound):
    title = "Import not found"


class ImportStarted(Conflict):
    title = "Import already started"


def _new_run(table: Table, *, actor: str, now: datetime, status: str, source: str,
             settings: str) -> ImportRun:
    return ImportRun(id=new_id(), status=status, actor=actor, source=source,
                     settings=settings, encoding=table.encoding, delimiter=table.delimiter,
                     total_rows=len(table.rows), done_rows=0, created=0, merged=0,
                     suppressed=0, rejected=0, with_evidence=0, asked_again=0,
                     wrapped_key=None, created_at=now, updated_at=now)


def _view(run: ImportRun) -> RunView:
    return RunView(id=run.id, status=run.status, source=run.source, encoding=run.encoding,
                   delimiter=run.delimiter, total_rows=run.total_rows,
                   done_rows=run.done_rows, created=run.created, merged=run.merged,
                   suppressed=run.suppressed, rejected=run.rejected,
                   with_evidence=run.with_evidence, asked_again=run.asked_again,
                   failure=run.failure)


def check_mapping(header: list[str], mapping: ColumnMapping,
                  evidence: EvidenceMapping | None = None) -> None:
    """`InvalidInput` when a mapped column is not in the file or is mapped twice."""
    evidence = evidence or EvidenceMapping()
    names = set(header)
    if not mapping.email and not mapping.phone:
        raise InvalidInput.one("mapping.email", "map a column to email or to phone")
    fields = [("mapping.email", mapping.email), ("mapping.name", mapping.name),
              ("mapping.phone", mapping.phone)]
    fields += [("mapping.attributes", c) for c in mapping.attributes]
    fields += [(f"evidence.{f}", getattr(evidence, f)) for f in
               ("source_column", "date_column", "version_column", "text_column")]
    for field, column in fields:
        if column is not None and column not in names:
            raise InvalidInput.one(field, f"the file has no column {column!r}")
    used = [c for _, c in fields if c is not None]
    if len(set(used)) != len(used):
        raise InvalidInput.one("mapping", "a column can be mapped only once")
    if evidence.columns() and not evidence.source_column:
        raise InvalidInput.one("evidence.source_column",
                               "name the column that holds each row's consent source")


class ImportsService:
    def __init__(self, keyring: Keyring, audit: AuditLog, subjects: SubjectsService,
                 notices: NoticesService, signups: SignupService | None, *, data_dir: Path,
                 batch_size: int = BATCH_SIZE) -> None:
        self._keyring = keyring
        self._audit = audit
        self._subjects = subjects
        self._notices = notices
        self._signups = signups
        self._data_dir = data_dir
        self.batch_size = batch_size

    # -- planning ------------------------------------------------------------------

    def check_plan(self, session: Session, header: list[str], plan: ImportPlan) -> None:
        """`InvalidInput` naming the first setting that does not fit the file or notice."""
        check_mapping(header, plan.mapping, plan.evidence)
        evidence, options = plan.evidence, plan.options
        if evidence.source_column:
            self._offer(session, plan, evidence.notice_version, field="evidence.notice_version")
        if options.ask_again:
            if self._signups is None or not self._signups.mail_on:
                raise InvalidInput.one("options.ask_again", "mail is off: no re-permission "
                                       "mail can be sent (set EHRLICH_SMTP_HOST)")
            self._offer(session, plan, None, field="options.purpose")

    @property
    def mail_on(self) -> bool:
        return self._signups is not None and self._signups.mail_on

    def consent_purposes(self, db: Database) -> list[str]:
        """The purposes of the published notice that rest on consent (for the form)."""
        with db.read() as session:
            notice = self._notices.current(session).notice
        return [p.id for p in notice.purposes if p.consent is not None]

    def _offer(self, session: Session, plan: ImportPlan, version: int | None, *,
               field: str) -> ConsentOffer:
        try:
            return self._notices.consent_offer(session, plan.options.purpose,
                                               plan.options.language, version=version)
        except (NotFound, InvalidInput) as exc:
            raise InvalidInput.one(field, exc.message) from None

    def create_run(self, db: Database, table: Table, plan: ImportPlan, *, actor: str,
                   now: datetime) -> RunView:
        """Record a run for `table` after checking the plan; nothing is imported yet."""
        with db.write() as session:
            self.check_plan(session, table.header, plan)
            run = _new_run(table, actor=actor, now=now, status=STATUS_READY,
                           source=plan.options.source, settings=plan.model_dump_json())
            session.add(run)
            self._audit.record(session, AuditEvent(actor, "import.create", run.id, {
                "rows": len(table.rows), "source": plan.options.source}), now=now)
            session.flush()
            return _view(run)

    # -- the console's steps: upload, plan, start ------------------------------------

    def upload(self, db: Database, raw: bytes, *, actor: str, now: datetime
               ) -> tuple[RunView, Table]:
        """Read an uploaded file and keep it sealed for the steps that follow."""
        table = read_table(raw)
        run = _new_run(table, actor=actor, now=now, status=STATUS_DRAFT, source="",
                       settings="")
        run.wrapped_key = seal_upload(self._keyring, self._data_dir, run.id, raw)
        with db.write() as session:
            session.add(run)
            self._audit.record(session, AuditEvent(actor, "import.upload", run.id, {
                "rows": len(table.rows)}), now=now)
            session.flush()
            return _view(run), table

    def table_of(self, db: Database, run_id: str) -> Table:
        """The sealed upload of a run that has not finished, read again."""
        wrapped = self.wrapped_key(db, run_id)
        if wrapped is None:
            raise ImportNotFound(f"the file of import {run_id} is no longer kept")
        return read_table(open_upload(self._keyring, self._data_dir, run_id, wrapped))

    def save_plan(self, db: Database, run_id: str, plan: ImportPlan, *, now: datetime
                  ) -> RunView:
        table = self.table_of(db, run_id)
        with db.write() as session:
            run = self._draft(session, run_id)
            self.check_plan(session, table.header, plan)
            run.settings, run.source, run.updated_at = (plan.model_dump_json(),
                                                        plan.options.source, now)
            return _view(run)

    def start(self, db: Database, run_id: str, *, actor: str, now: datetime) -> RunView:
        """Mark a planned draft ready; the caller queues the job."""
        with db.write() as session:
            run = self._draft(session, run_id)
            if not run.settings:
                raise InvalidInput.one("plan", "map the columns first")
            run.status, run.updated_at = STATUS_READY, now
            self._audit.record(session, AuditEvent(actor, "import.start", run_id), now=now)
            return _view(run)

    def discard_stale(self, db: Database, *, now: datetime,
                      drafts_after: timedelta = DRAFT_LIFETIME,
                      failed_after: timedelta = FAILED_LIFETIME) -> int:
        """Shred the uploads of drafts never started and of stopped runs never resumed
        (their keys and files); returns how many."""
        with db.write() as session:
            stale = list(session.execute(select(ImportRun).where(
                ImportRun.wrapped_key.is_not(None),
                or_(and_(ImportRun.status == STATUS_DRAFT,
                         ImportRun.updated_at < now - drafts_after),
                    and_(ImportRun.status == STATUS_FAILED,
                         ImportRun.updated_at < now - failed_after)))).scalars())
            for run in stale:
                run.wrapped_key, run.status, run.updated_at = None, STATUS_FAILED, now
                run.failure = "the uploaded file was deleted after waiting too long"
        for run in stale:
            discard_upload(self._data_dir, run.id)
        return len(stale)

    def recent(self, db: Database, *, limit: int = 20) -> list[RunView]:
        with db.read() as session:
            runs = session.execute(select(ImportRun).order_by(ImportRun.created_at.desc())
                                   .limit(limit)).scalars()
            return [_view(r) for r in runs]

    def _draft(self, session: Session, run_id: str) -> ImportRun:
        run = self._run(session, run_id)
        if run.status != STATUS_DRAFT:
            raise ImportStarted(f"import {run_id} has already started")
        return run

    def dry_run(self, db: Database, table: Table, plan: ImportPlan, *, now: datetime
                ) -> list[Rejected]:
        """Check the plan and every row without writing anything; the rows it would refuse."""
        with db.read() as session:
            self.check_plan(session, table.header, plan)
        reader = RowReader(table.header, plan, self._subjects, now=now)
        offers: dict[int | None, ConsentOffer] = {}
        outcomes = self._with_offers(db, plan, [reader.read(n, c) for n, c in table.rows],
                                     offers)
        return [o for o in outcomes if isinstance(o, Rejected)]

    # -- reading -------------------------------------------------------------------

    def _run(self, session: Session, run_id: str) -> ImportRun:
        run = session.get(ImportRun, run_id)
        if run is None:
            raise ImportNotFound(f"no import {run_id}")
        return run

    def view(self, db: Database, run_id: str) -> RunView:
        with db.read() as session:
            return _view(self._run(session, run_id))

    def wrapped_key(self, db: Database, run_id: str) -> bytes | None:
        with db.read() as session:
            return self._run(session, run_id).wrapped_key

    def plan_of(self, db: Database, run_id: str) -> ImportPlan:
        with db.read() as session:
            return ImportPlan.model_validate_json(self._run(session, run_id).settings)

    def report(self, db: Database, run_id: str) -> list[Rejected]:
        """The rejected rows in file order: row number, column, reason."""
        with db.read() as session:
            self._run(session, run_id)
            rows = session.execute(select(ImportRejection).where(
                ImportRejection.run_id == run_id).order_by(ImportRejection.row)).scalars()
            return [Rejected(r.row, r.field, r.reason) for r in rows]

    def report_csv(self, db: Database, run_id: str) -> str:
        """The report as CSV (UTF-8 with BOM, so spreadsheet programs read it right)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["row", "column", "reason"])
        for item in self.report(db, run_id):
            writer.writerow([item.row, item.field, item.reason])
        return "\ufeff" + out.getvalue()

    # -- running -------------------------------------------------------------------

    def run(self, db: Database, run_id: str, table: Table, *, mail: MailSender,
            now: datetime, progress: Progress | None = None,
            stop_after: int | None = None) -> RunView:
        """Import the rows not yet done, batch by batch; resumable after a crash.
        `stop_after` ends after that many batches (the run stays resumable)."""
        with db.write() as session:
            run = self._run(session, run_id)
            if run.status == STATUS_DONE:
                return _view(run)
            if run.total_rows != len(table.rows):
                raise InvalidInput.one("file", "is not the file this import was made for")
            run.status, run.updated_at, run.failure = STATUS_RUNNING, now, None
            plan = ImportPlan.model_validate_json(run.settings)
            start, actor = run.done_rows, run.actor
        reader = RowReader(table.header, plan, self._subjects, now=now)
        offers: dict[int | None, ConsentOffer] = {}
        batches, first, size = 0, start, self.batch_size
        try:
            while first < len(table.rows):
                chunk = table.rows[first:first + size]
                first += len(chunk)
                outcomes = [reader.read(number, cells) for number, cells in chunk]
                outcomes = self._with_offers(db, plan, outcomes, offers)
                view, held = self._batch(db, run_id, plan, outcomes, offers, mail,
                                         actor=actor, done=first, now=now)
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
               done: int, now: datetime) -> tuple[RunView, float]:
        """Commit one batch; the confirmation mails it asks for are queued in the same
        transaction, so a crash cannot keep the requests and lose their mails. Also
        returns how long the transaction held the writer."""
        accepted = [o for o in outcomes if isinstance(o, Accepted)]
        rejected = [o for o in outcomes if isinstance(o, Rejected)]
        # Built before the write transaction, as if every row became a new contact; the
        # transaction keeps those of the rows it really created.
        grants = self._first_grants(run_id, plan, accepted, offers, actor=actor, now=now)
        pending: list[PendingConfirmation] = []
        with db.write() as session:
            began = time.perf_counter()
            run = self._run(session, run_id)
            blocked = suppression.suppressed_among(
                session, [a.email_index for a in accepted if a.email_index is not None],
                plan.options.purpose)
            kept = [a for a in accepted if a.email_index not in blocked]
            placed = self._subjects.place_prepared(session, [a.prepared for a in kept],
                                                   actor=actor, now=now)
            created = {p.subject_id for p in placed if p.created}
            granted = record_first_grants(session, self._audit, grants.only(created), now=now)
            merged_with_evidence = 0
            new_without: list[tuple[str, str]] = []
            for row, place in zip(kept, placed, strict=True):
                if row.evidence is not None and not place.created:
                    merged_with_evidence += 1
                    # a known contact: the state machine decides; a refusal means the
                    # contact's own later choice stands
                    with contextlib.suppress(ConsentRefused, AddressSuppressed):
                        record_consent(session, self._audit, self._grant(
                            run_id, plan, row, offers, place.subject_id), actor=actor, now=now)
                elif row.evidence is None and place.created and row.data.email:
                    new_without.append((place.subject_id, row.data.email))
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
                session.connection().execute(insert(ImportRejection), [
                    {"run_id": run_id, "row": r.row, "field": r.field[:200],
                     "reason": r.reason[:500]} for r in rejected])
            run.done_rows = done
            run.created += len(created)
            run.merged += len(placed) - len(created)
            run.suppressed += len(accepted) - len(kept)
            run.rejected += len(rejected)
            run.with_evidence += len(granted) + merged_with_evidence
            run.asked_again += len(pending)
            run.updated_at = now
            view = _view(run)
        return view, time.perf_counter() - began

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
            view = _view(run)
        discard_upload(self._data_dir, run_id)
        return view

    def _fail(self, db: Database, run_id: str, message: str, *, now: datetime) -> None:
        with db.write() as session:
            session.execute(update(ImportRun).where(ImportRun.id == run_id).values(
                status=STATUS_FAILED, failure=message[:500], updated_at=now))
