"""Running an import the way the console and the CLI do."""

from __future__ import annotations

from ehrlich.consent.ledger import suppression
from ehrlich.imports.csvfile import read_table
from ehrlich.imports.schemas import (
    ColumnMapping,
    EvidenceMapping,
    ImportOptions,
    ImportPlan,
    RunView,
)
from ehrlich.imports.service import ImportsService
from ehrlich.instance.service import Instance
from tests.conftest import NOW
from tests.imports.sample import Sample


def plan(*, ask_again: bool = False) -> ImportPlan:
    return ImportPlan(
        mapping=ColumnMapping(email="E-Mail", name="Name", attributes=["Kundennummer"]),
        evidence=EvidenceMapping(source_column="Opt-in-Quelle", date_column="Opt-in-Datum"),
        options=ImportOptions(source="Old shop list", purpose="newsletter",
                              ask_again=ask_again))


def suppress_sample(instance: Instance, sample: Sample) -> None:
    with instance.db.write() as session:
        for number, email in enumerate(sample.suppressed_emails):
            suppression.suppress(session, instance.subjects.email_index(email),
                                 purpose="newsletter" if number % 2 else "*",
                                 reason="withdrawn", now=NOW)


def run_import(instance: Instance, sample: Sample, *, ask_again: bool = False,
               batch_size: int = 500) -> RunView:
    imports = instance.service(ImportsService)
    imports.batch_size = batch_size
    table = read_table(sample.raw)
    run = imports.create_run(instance.db, table, plan(ask_again=ask_again),
                             actor="staff:test", now=NOW)
    return imports.run(instance.db, run.id, table, mail=instance.mail, now=NOW)
