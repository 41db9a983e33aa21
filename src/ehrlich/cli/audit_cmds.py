"""`ehrlich audit verify`."""

from __future__ import annotations

import typer

from ehrlich.cli.context import console, err_console, opened_instance

app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check every entry of the audit chain; exit 1 naming the first broken entry.

    Example: ehrlich audit verify
    """
    with opened_instance(ctx) as instance, instance.db.read() as session:
        report = instance.audit.verify_chain(session)
    if report.ok:
        console.print(f"Audit chain intact: {report.checked} entries verified.")
        return
    err_console.print(f"[red]Audit chain broken at entry {report.first_broken}:[/red] "
                      f"{report.reason} ({report.checked} entries before it verified).")
    raise typer.Exit(1)
