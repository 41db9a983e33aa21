"""What the import service's parts share: the services it works with, a run's record
and how it is shown, and the errors a run's id can meet."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.consent.signup.service import SignupService
from ehrlich.crypto import Keyring
from ehrlich.errors import Conflict, NotFound
from ehrlich.imports.csvfile import Table
from ehrlich.imports.models import ImportRun
from ehrlich.imports.schemas import RunView
from ehrlich.notices.service import NoticesService
from ehrlich.storage.base import new_id
from ehrlich.subjects.service import SubjectsService

BATCH_SIZE = 200


class ImportNotFound(NotFound):
    title = "Import not found"


class ImportStarted(Conflict):
    title = "Import already started"


def new_run(table: Table, *, actor: str, now: datetime, status: str, source: str,
             settings: str) -> ImportRun:
    return ImportRun(id=new_id(), status=status, actor=actor, source=source,
                     settings=settings, encoding=table.encoding, delimiter=table.delimiter,
                     total_rows=len(table.rows), done_rows=0, created=0, merged=0,
                     suppressed=0, rejected=0, with_evidence=0, asked_again=0,
                     wrapped_key=None, created_at=now, updated_at=now)


def run_view(run: ImportRun) -> RunView:
    return RunView(id=run.id, status=run.status, source=run.source, encoding=run.encoding,
                   delimiter=run.delimiter, total_rows=run.total_rows,
                   done_rows=run.done_rows, created=run.created, merged=run.merged,
                   suppressed=run.suppressed, rejected=run.rejected,
                   with_evidence=run.with_evidence, asked_again=run.asked_again,
                   failure=run.failure)


class ImportsCore:
    """The services an import works with, and a run read by its id."""

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

    def _run(self, session: Session, run_id: str) -> ImportRun:
        run = session.get(ImportRun, run_id)
        if run is None:
            raise ImportNotFound(f"no import {run_id}")
        return run
