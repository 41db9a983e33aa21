"""A 2,000-row list with 5% bad rows, 2% suppressed and 3% duplicates gives exactly the
expected counts and report, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.imports.service import ImportsService
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.subjects.models import Subject
from tests.conftest import NOW
from tests.imports.helpers import run_import, suppress_sample
from tests.imports.sample import make_sample


def test_counts_and_report_are_exact(published: Instance) -> None:
    sample = make_sample(2000)
    suppress_sample(published, sample)
    run = run_import(published, sample)
    report = published.service(ImportsService).report(published.db, run.id)
    assert (run.status, run.done_rows, run.total_rows) == ("done", 2000, 2000)
    assert (run.created, run.merged, run.suppressed, run.rejected) == (1800, 60, 40, 100)
    assert run.with_evidence == sample.with_evidence
    assert [(r.row, r.field) for r in report] == [(n, c) for n, c, _ in sample.rejected]
    assert all(why in r.reason for r, (_, _, why) in zip(report, sample.rejected, strict=True))
    with published.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Subject)) == 1800
        granted = session.scalar(select(func.count()).select_from(ConsentState).where(
            ConsentState.state == "active"))
        methods = set(session.scalars(select(ConsentEvent.method)))
    assert granted == sample.with_evidence
    assert methods == {"import-with-evidence"}


def test_report_download_holds_no_values(published: Instance) -> None:
    sample = make_sample(100)
    run = run_import(published, sample)
    text = published.service(ImportsService).report_csv(published.db, run.id)
    assert text.startswith("\ufeffrow,column,reason\r\n2,E-Mail,")
    assert "person" not in text.lower()


def test_re_permission_mail_goes_only_to_rows_without_evidence(
        published: Instance, outbox: MemoryMailSender) -> None:
    sample = make_sample(200)
    suppress_sample(published, sample)
    run = run_import(published, sample, ask_again=True, batch_size=64)
    assert run.asked_again == len(sample.without_evidence)
    assert sorted(m.to for m in outbox.sent) == sorted(sample.without_evidence)
    with published.db.read() as session:
        requested = session.scalar(select(func.count()).select_from(ConsentState).where(
            ConsentState.state == "requested"))
    assert requested == len(sample.without_evidence)


def test_formula_cells_are_kept_as_text(published: Instance) -> None:
    run_import(published, make_sample(100))
    with published.db.write() as session:
        found = published.subjects.find(session, email="person50@example.org",
                                        actor="staff:test", now=NOW)
    assert found[0].name == '=HYPERLINK("http://evil.example","click")'
