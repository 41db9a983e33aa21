"""`ehrlich import FILE`: the console's import from the command line, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from ehrlich.cli.context import now, opened_instance
from ehrlich.errors import InvalidInput
from ehrlich.imports.csvfile import read_table
from ehrlich.imports.schemas import (
    TARGETS,
    ColumnMapping,
    EvidenceMapping,
    ImportOptions,
    ImportPlan,
    RunView,
)
from ehrlich.imports.service import ImportsService

console = Console(soft_wrap=True, highlight=False)
ACTOR = "cli"
ATTRIBUTE = "attr"


def parse_map(values: list[str]) -> ColumnMapping:
    """`email=E-Mail,name=Name,attr=Kundennummer` (also given several times)."""
    fields: dict[str, str] = {}
    attributes: list[str] = []
    for value in values:
        for pair in value.split(","):
            target, sep, column = pair.partition("=")
            target, column = target.strip(), column.strip()
            if not sep or not column:
                raise InvalidInput.one("--map", f"{pair!r} is not TARGET=COLUMN")
            if target == ATTRIBUTE:
                attributes.append(column)
            elif target in TARGETS and target not in fields:
                fields[target] = column
            else:
                raise InvalidInput.one("--map", f"{target!r} is not one of "
                                       f"{', '.join(TARGETS)} or {ATTRIBUTE}, or is given twice")
    return ColumnMapping(**fields, attributes=attributes)


def _summary(run: RunView) -> RichTable:
    table = RichTable(title=f"Import {run.id}")
    table.add_column("rows")
    table.add_column("count", justify="right")
    for label, value in (("in the file", run.total_rows), ("new contacts", run.created),
                         ("merged into known contacts", run.merged),
                         ("skipped: suppressed", run.suppressed),
                         ("rejected", run.rejected), ("with consent evidence", run.with_evidence),
                         ("re-permission mails", run.asked_again)):
        table.add_row(label, str(value))
    return table


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The CSV file (UTF-8 or Excel CSV, ; or ,)",
                                         exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option(help="Where the list came from (GDPR Art. 14)")],
    map_: Annotated[list[str], typer.Option(
        "--map", help="TARGET=COLUMN pairs, comma-separated: email, name, phone, attr")],
    evidence_column: Annotated[str | None, typer.Option(
        help="Column naming each row's consent source; rows with it filled are granted")] = None,
    date_column: Annotated[str | None, typer.Option(help="Column with the consent date")] = None,
    version_column: Annotated[str | None, typer.Option(
        help="Column with the notice version shown")] = None,
    text_column: Annotated[str | None, typer.Option(
        help="Column with the consent text shown")] = None,
    notice_version: Annotated[int | None, typer.Option(
        help="Notice version shown (default: the published one)")] = None,
    purpose: Annotated[str, typer.Option(help="The consent purpose")] = "newsletter",
    language: Annotated[str, typer.Option(help="Language of the consent text")] = "en",
    ask_again: Annotated[bool, typer.Option(
        help="Send a re-permission mail to new contacts without evidence")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check every row; write nothing")] = False,
    resume: Annotated[str | None, typer.Option(
        help="Continue an interrupted import of the same file")] = None,
    report: Annotated[Path | None, typer.Option(
        help="Write the rejected rows (row, column, reason) to this CSV file")] = None,
) -> None:
    """Import contacts from a CSV file, in batches, with a progress bar."""
    table = read_table(file.read_bytes())
    plan = ImportPlan(mapping=parse_map(map_), evidence=EvidenceMapping(
        source_column=evidence_column, date_column=date_column, version_column=version_column,
        text_column=text_column, notice_version=notice_version),
        options=ImportOptions(source=source, purpose=purpose, language=language,
                              ask_again=ask_again))
    console.print(f"{len(table.rows)} rows, read as {table.encoding} with "
                  f"'{table.delimiter}' between columns")
    with opened_instance(ctx) as instance:
        imports = instance.service(ImportsService)
        if dry_run:
            refused = imports.dry_run(instance.db, table, plan, now=now())
            for item in refused[:20]:
                console.print(f"row {item.row}: {item.field}: {item.reason}")
            console.print(f"dry run: {len(refused)} of {len(table.rows)} rows would be "
                          "rejected; nothing was written")
            return
        run = (imports.view(instance.db, resume) if resume else
               imports.create_run(instance.db, table, plan, actor=ACTOR, now=now()))
        columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task("import", total=run.total_rows, completed=run.done_rows)
            run = imports.run(instance.db, run.id, table, mail=instance.mail, now=now(),
                              progress=lambda v: progress.update(bar, completed=v.done_rows))
        console.print(_summary(run))
        if report is not None:
            report.write_text(imports.report_csv(instance.db, run.id), encoding="utf-8")
            console.print(f"rejected rows written to {report}")
        elif run.rejected:
            console.print(f"see the rejected rows with --report FILE or in the console at "
                          f"/admin/imports/{run.id}")
