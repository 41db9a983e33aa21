"""`ehrlich counts check` and `ehrlich counts rebuild`: the overview's kept counts."""

from __future__ import annotations

from datetime import timedelta

import typer
from sqlalchemy.orm import Session

from ehrlich.cli.context import console, err_console, now, opened_instance
from ehrlich.consent import counts
from ehrlich.consent.statistics import (
    active_by_purpose,
    daily_activity,
    recount_active_by_purpose,
    recount_daily_activity,
)
from ehrlich.instance.service import Instance
from ehrlich.registry import command_line

app = typer.Typer(help="The counts the console's overview reads.", no_args_is_help=True)
DAYS = 400


def differences(instance: Instance, session: Session) -> list[str]:
    """What the kept counts get wrong against a recount from the raw tables (slow: it
    reads every subject and the ledger's last `DAYS` days)."""
    today = (now() + timedelta(days=1)).date()
    found = []
    pairs = (("contacts per state", instance.subjects.count_by_state,
              instance.subjects.recount_by_state),
             ("active consents per purpose and channel", active_by_purpose,
              recount_active_by_purpose),
             ("consent events per day", lambda s: daily_activity(s, days=DAYS, today=today),
              lambda s: recount_daily_activity(s, days=DAYS, today=today)))
    for name, kept, recount in pairs:
        if kept(session) != recount(session):
            found.append(name)
    return found


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Compare the overview's counts with a recount from the contacts and the consent
    ledger; exit 1 naming those that differ.

    Example: ehrlich counts check
    """
    with opened_instance(ctx) as instance, instance.db.read() as session:
        wrong = differences(instance, session)
        command = command_line(ctx, instance.settings)
    if not wrong:
        console.print("The overview's counts match a recount.")
        return
    err_console.print(f"[red]Counts differ from a recount:[/red] {', '.join(wrong)}. "
                      f"Run `{command} counts rebuild` to recount them.")
    raise typer.Exit(1)


@app.command("rebuild")
def rebuild(ctx: typer.Context) -> None:
    """Recount the overview's counts from the contacts and the consent ledger, in one
    transaction (after rows were written around the services, e.g. by hand).

    Example: ehrlich counts rebuild
    """
    with opened_instance(ctx) as instance:
        with instance.db.write() as session:
            counts.rebuild(session)
            instance.subjects.rebuild_counts(session)
        with instance.db.read() as session:
            wrong = differences(instance, session)
    if wrong:  # pragma: no cover - a rebuild recounts from the same tables
        err_console.print(f"[red]Still differ after the rebuild:[/red] {', '.join(wrong)}")
        raise typer.Exit(1)
    console.print("The overview's counts were recounted.")
