"""Batches: a crash mid-batch leaves the committed ones and the run resumes after them;
a signup sent while an import runs gets through."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.imports import batches
from ehrlich.imports.csvfile import read_table
from ehrlich.imports.schemas import RunView
from ehrlich.imports.service import ImportsService
from ehrlich.imports.uploads import upload_path
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.subjects.models import Subject
from ehrlich.subjects.service import Placed, PreparedSubject, SubjectsService
from tests.conftest import NOW
from tests.consent.conftest import NEWSLETTER_EN
from tests.imports.helpers import plan, suppress_sample
from tests.imports.sample import make_sample

Auth = Callable[..., dict[str, str]]


class CrashingSubjects(SubjectsService):
    """Fails on the given call to `place_prepared`, after its inserts: a crash mid-batch."""

    def __init__(self, real: SubjectsService, crash_on: int) -> None:
        self.__dict__.update(real.__dict__)
        self.calls, self.crash_on = 0, crash_on

    def place_prepared(self, session: Session, prepared: Sequence[PreparedSubject], *,
                       actor: str, now: datetime) -> list[Placed]:
        placed = super().place_prepared(session, prepared, actor=actor, now=now)
        self.calls += 1
        if self.calls == self.crash_on:
            raise RuntimeError("power cut")
        return placed


def test_a_crash_keeps_committed_batches_and_the_run_resumes(
        published: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    # Batches of exactly 100: a loaded machine would otherwise shrink them after a slow
    # one (the pacing has tests of its own), and the crash would land on another row.
    monkeypatch.setattr(batches, "HOLD_AIM", 3600.0)
    sample = make_sample(300)
    suppress_sample(published, sample)
    table = read_table(sample.raw)
    crashing = ImportsService(published.keyring, published.audit,
                              CrashingSubjects(published.subjects, 3), published.notices,
                              published.signups,
                              data_dir=published.settings.data_dir, batch_size=100)
    run = crashing.create_run(published.db, table, plan(), actor="staff:test", now=NOW)
    with pytest.raises(RuntimeError, match="power cut"):
        crashing.run(published.db, run.id, table, mail=published.mail, now=NOW)
    stopped = crashing.view(published.db, run.id)
    assert (stopped.status, stopped.done_rows) == ("failed", 200)
    with published.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Subject)) == stopped.created
    done = published.service(ImportsService).run(published.db, run.id, table,
                                                 mail=published.mail, now=NOW)
    assert (done.status, done.done_rows) == ("done", 300)
    assert (done.created, done.merged, done.suppressed, done.rejected) == (270, 9, 6, 15)
    assert len(published.service(ImportsService).report(published.db, run.id)) == 15


def test_a_row_reader_failing_ahead_stops_the_run_after_the_committed_batches(
        published: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows of the next batch are read in the read-ahead thread; an error there
    fails the run as one in the batch would, and the run resumes after the last commit."""
    monkeypatch.setattr(batches, "HOLD_AIM", 3600.0)
    sample = make_sample(300)
    suppress_sample(published, sample)
    table = read_table(sample.raw)
    imports = published.service(ImportsService)
    imports.batch_size = 100
    real_read = batches.RowReader.read
    threads: set[str] = set()

    def read(self: batches.RowReader, number: int, cells: Sequence[str]
             ) -> batches.Accepted | batches.Rejected:
        threads.add(threading.current_thread().name)
        if number == 2 + 250:  # a row of the third batch (the first data row is row 2)
            raise RuntimeError("disk gone")
        return real_read(self, number, cells)

    monkeypatch.setattr(batches.RowReader, "read", read)
    run = imports.create_run(published.db, table, plan(), actor="staff:test", now=NOW)
    with pytest.raises(RuntimeError, match="disk gone"):
        imports.run(published.db, run.id, table, mail=published.mail, now=NOW)
    stopped = imports.view(published.db, run.id)
    assert (stopped.status, stopped.done_rows) == ("failed", 200)
    assert "internal error" in (stopped.failure or "")
    assert threads == {"import-read-ahead"}
    assert all(t.name != "import-read-ahead" for t in threading.enumerate())
    monkeypatch.setattr(batches.RowReader, "read", real_read)
    done = imports.run(published.db, run.id, table, mail=published.mail, now=NOW)
    assert (done.status, done.done_rows) == ("done", 300)
    assert (done.created, done.merged, done.suppressed, done.rejected) == (270, 9, 6, 15)


def test_a_signup_during_an_import_gets_through(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth
) -> None:
    sample = make_sample(1000)
    table = read_table(sample.raw)
    imports = published.service(ImportsService)
    imports.batch_size = 100
    run = imports.create_run(published.db, table, plan(), actor="staff:test", now=NOW)
    started, signed_up = threading.Event(), threading.Event()
    outcome: list[RunView] = []

    def progress(view: RunView) -> None:
        started.set()
        if view.done_rows == 200:  # the import goes on meanwhile, then waits here once
            signed_up.wait(timeout=60)

    def work() -> None:
        outcome.append(imports.run(published.db, run.id, table, mail=published.mail,
                                   now=NOW, progress=progress))

    worker = threading.Thread(target=work)
    worker.start()
    assert started.wait(timeout=60)
    response = client.post("/api/v1/signups", headers=auth("signups:write"), json={
        "email": "walk-in@example.org", "language": "en", "notice_version": 1,
        "consents": [{"purpose": "newsletter", "text": NEWSLETTER_EN}]})
    during = imports.view(published.db, run.id)
    signed_up.set()
    worker.join(timeout=120)
    assert response.status_code == 202, response.text
    assert [m.to for m in outbox.sent] == ["walk-in@example.org"]
    assert during.status == "running"
    assert outcome[0].created == 920
    with published.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Subject)) == 921


def test_uploads_left_waiting_are_shredded(published: Instance) -> None:
    imports = published.service(ImportsService)
    draft, _ = imports.upload(published.db, make_sample(100).raw, actor="staff:test",
                              now=NOW)
    path = upload_path(published.settings.data_dir, draft.id)
    assert path.exists()
    assert imports.discard_stale(published.db, now=NOW + timedelta(hours=23)) == 0
    assert imports.discard_stale(published.db, now=NOW + timedelta(hours=25)) == 1
    assert not path.exists()
    assert imports.wrapped_key(published.db, draft.id) is None
    assert imports.view(published.db, draft.id).status == "failed"
