"""Importing an existing list: upload, check the plan, then run it in batches
(`imports.batches`, which says how a batch holds the writer and resumes).

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

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent
from ehrlich.errors import InvalidInput, NotFound
from ehrlich.imports.batches import HOLD_AIM, MIN_BATCH, ImportBatches, next_batch_size
from ehrlich.imports.core import BATCH_SIZE, ImportNotFound, ImportStarted, new_run, run_view
from ehrlich.imports.csvfile import Table, read_table
from ehrlich.imports.models import (
    STATUS_DRAFT,
    STATUS_FAILED,
    STATUS_READY,
    ImportRejection,
    ImportRun,
)
from ehrlich.imports.rows import Rejected, RowReader
from ehrlich.imports.schemas import ColumnMapping, EvidenceMapping, ImportPlan, RunView
from ehrlich.imports.uploads import discard_upload, open_upload, seal_upload
from ehrlich.notices.service import ConsentOffer
from ehrlich.storage.database import Database

__all__ = ["BATCH_SIZE", "HOLD_AIM", "MIN_BATCH", "PREVIEW_ROWS", "ImportNotFound", "ImportStarted",
           "ImportsService", "check_mapping", "next_batch_size"]

DRAFT_LIFETIME = timedelta(days=1)
FAILED_LIFETIME = timedelta(days=7)
PREVIEW_ROWS = 5


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


class ImportsService(ImportBatches):
    """Imports from upload to report; the batches are run by `ImportBatches`."""

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

    def consent_choices(self, db: Database, *, language: str
                        ) -> tuple[list[tuple[str, str]], list[str]]:
        """For the form: (id, title in `language`) of the published notice's purposes that
        rest on consent, and the notice's languages (its consent texts' languages).
        Raises `NoticeNotPublished`."""
        with db.read() as session:
            notice = self._notices.current(session).notice
        purposes = [(p.id, p.title.get(language) or p.title.get("en") or p.id)
                    for p in notice.purposes if p.consent is not None]
        return purposes, list(notice.languages)

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
            run = new_run(table, actor=actor, now=now, status=STATUS_READY,
                           source=plan.options.source, settings=plan.model_dump_json())
            session.add(run)
            self._audit.record(session, AuditEvent(actor, "import.create", run.id, {
                "rows": len(table.rows), "source": plan.options.source}), now=now)
            session.flush()
            return run_view(run)

    # -- the console's steps: upload, plan, start ------------------------------------

    def upload(self, db: Database, raw: bytes, *, actor: str, now: datetime
               ) -> tuple[RunView, Table]:
        """Read an uploaded file and keep it sealed for the steps that follow."""
        table = read_table(raw)
        run = new_run(table, actor=actor, now=now, status=STATUS_DRAFT, source="",
                       settings="")
        run.wrapped_key = seal_upload(self._keyring, self._data_dir, run.id, raw)
        with db.write() as session:
            session.add(run)
            self._audit.record(session, AuditEvent(actor, "import.upload", run.id, {
                "rows": len(table.rows)}), now=now)
            session.flush()
            return run_view(run), table

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
            return run_view(run)

    def start(self, db: Database, run_id: str, *, actor: str, now: datetime) -> RunView:
        """Mark a planned draft ready; the caller queues the job."""
        with db.write() as session:
            run = self._draft(session, run_id)
            if not run.settings:
                raise InvalidInput.one("plan", "map the columns first")
            run.status, run.updated_at = STATUS_READY, now
            self._audit.record(session, AuditEvent(actor, "import.start", run_id), now=now)
            return run_view(run)

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
            return [run_view(r) for r in runs]

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

    def view(self, db: Database, run_id: str) -> RunView:
        with db.read() as session:
            return run_view(self._run(session, run_id))

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
