"""`ehrlich audit verify` and `ehrlich audit head`."""

from __future__ import annotations

from typing import Annotated

import typer

from ehrlich.audit.service import Anchor
from ehrlich.cli.context import console, err_console, opened_instance

app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)


@app.command("verify")
def verify(ctx: typer.Context, anchor: Annotated[list[str] | None, typer.Option(
        help="SEQ:HASH from `ehrlich audit head`, kept elsewhere; may be given more than "
        "once")] = None) -> None:
    """Check every entry of the audit chain (and the anchors); exit 1 naming the first
    broken entry.

    Example: ehrlich audit verify --anchor 1042:5f1c…
    """
    anchors = [Anchor.parse(a) for a in anchor or []]
    with opened_instance(ctx) as instance, instance.db.read() as session:
        report = instance.audit.check_anchors(session, anchors)
    if report.ok:
        console.print(f"Audit chain intact: {report.checked} entries verified.")
        return
    err_console.print(f"[red]Audit chain broken at entry {report.first_broken}:[/red] "
                      f"{report.reason} ({report.checked} entries before it verified).")
    raise typer.Exit(1)


@app.command("head")
def head(ctx: typer.Context) -> None:
    """Print the newest entry as SEQ:HASH. Keep it where the database is not (a mail to
    your auditor, a log server): `ehrlich audit verify --anchor` later shows a rewrite.

    Example: ehrlich audit head
    """
    with opened_instance(ctx) as instance, instance.db.read() as session:
        anchor = instance.audit.head(session)
    console.print(str(anchor), soft_wrap=True, highlight=False)
