"""`ehrlich doctor`: the posture report, with a fix for everything that is not right."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from ehrlich.cli.context import console, now, opened_instance
from ehrlich.instance.commands import pasteable
from ehrlich.posture.service import run_report
from ehrlich.registry import command_line

MARKS = {"pass": "[green]pass[/green]", "warn": "[yellow]warn[/yellow]",
         "fail": "[red]fail[/red]"}


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def doctor(
    ctx: typer.Context,
    output: Annotated[Format, typer.Option("--format", help="text or json")] = Format.TEXT,
) -> None:
    """Check how well this instance is protected; exits 1 when any check fails.

    Example: ehrlich doctor --format json
    """
    with opened_instance(ctx) as instance:
        report = run_report(instance, now=now())
        command = command_line(ctx, instance.settings)
    if output == Format.JSON:
        typer.echo(json.dumps({"ok": not report.failed, "counts": report.counts(), "checks": [
            {**asdict(r), "fix": pasteable(r.fix, command)} for r in report.results]},
            indent=2))
    else:
        table = Table("", "check", "finding", "fix", show_lines=True)
        for r in report.results:
            table.add_row(MARKS[r.status], r.title, r.detail, pasteable(r.fix, command))
        console.print(table)
        counts = report.counts()
        console.print(f"{counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail")
    if report.failed:
        raise typer.Exit(1)
