"""`ehrlich requests list|show|record|extend|fulfil`: the data-request queue from the
command line.

Whoever runs these commands has the key file and the database, so they act with
owner rights; each change is audited as `cli`. The group is installed by the
rights domain; it opens the instance through the CLI's context object.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ehrlich.auth.roles import Role
from ehrlich.errors import InvalidInput
from ehrlich.registry import command_instance
from ehrlich.rights.report import report_json
from ehrlich.rights.schemas import CHANNELS, IDENTITY_CHECKS, KINDS, NewRequest, RequestView
from ehrlich.rights.service import RightsService

app = typer.Typer(help="Data requests of people (access, erasure, …) and their deadlines.",
                  no_args_is_help=True)
console = Console(soft_wrap=True, highlight=False)
ACTOR = "cli"
ROLE = Role.OWNER



def _now() -> datetime:
    return datetime.now(UTC)


def _print(r: RequestView) -> None:
    for label, value in (
            ("id", r.id), ("kind", r.kind), ("status", r.status),
            ("received", f"{r.received_at:%Y-%m-%d %H:%M} UTC"), ("due", f"{r.due:%Y-%m-%d}"),
            ("extended because", r.extension_reason or ""), ("channel", r.channel),
            ("identity check", r.identity_check), ("contact", r.subject_id or ""),
            ("recorded by", r.recorded_by), ("result", r.result or "")):
        if value:
            console.print(f"{label + ':':18} {value}")


@app.command("list")
def list_requests(
    ctx: typer.Context,
    status: Annotated[str, typer.Option(help="open, extended, done, refused or all")] = "open",
) -> None:
    """List data requests, the earliest due first.

    Example: ehrlich requests list --status all
    """
    with command_instance(ctx) as instance:
        rows, total = instance.service(RightsService).listing(
            instance.db, role=ROLE, status=None if status == "all" else status)
    table = Table("kind", "received", "due", "channel", "status", title=f"{total} request(s)")
    table.add_column("id", no_wrap=True)
    for r in rows:
        table.add_row(r.kind, f"{r.received_at:%Y-%m-%d}", f"{r.due:%Y-%m-%d}", r.channel,
                      r.status, r.id)
    console.print(table)


@app.command("show")
def show(ctx: typer.Context, request_id: str) -> None:
    """Show one data request.

    Example: ehrlich requests show 0193…
    """
    with command_instance(ctx) as instance:
        _print(instance.service(RightsService).get(instance.db, request_id, role=ROLE))


@app.command("record")
def record(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option(help=", ".join(KINDS))],
    channel: Annotated[str, typer.Option(help=", ".join(CHANNELS))],
    identity_check: Annotated[str, typer.Option(help=", ".join(IDENTITY_CHECKS))],
    email: Annotated[str | None, typer.Option(help="The person's address, to link the "
                                                   "request to their contact")] = None,
    received: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
) -> None:
    """Record a request that came by letter, phone or mail.

    Example: ehrlich requests record --kind access --channel letter
      --identity-check id-document --email ada@example.org
    """
    try:
        at = datetime.fromisoformat(received).replace(tzinfo=UTC) if received else _now()
    except ValueError:
        raise InvalidInput.one("--received", "enter a date as YYYY-MM-DD") from None
    with command_instance(ctx) as instance:
        made = instance.service(RightsService).record(
            instance.db, NewRequest(kind, channel, identity_check, at),  # type: ignore[arg-type]
            role=ROLE, actor=ACTOR, email=email, now=_now())
    _print(made)


@app.command("extend")
def extend(ctx: typer.Context, request_id: str,
           reason: Annotated[str, typer.Option(help="Why it takes longer")],
           months: Annotated[int, typer.Option(min=1, max=2)] = 1) -> None:
    """Move a request's due date by one or two months, with a reason (Art. 12(3)).

    Example: ehrlich requests extend 0193… --months 1 --reason "many requests this month"
    """
    with command_instance(ctx) as instance:
        _print(instance.service(RightsService).extend(
            instance.db, request_id, months=months, reason=reason, role=ROLE, actor=ACTOR,
            now=_now()))


@app.command("fulfil")
def fulfil(
    ctx: typer.Context, request_id: str,
    out: Annotated[Path | None, typer.Option(help="Access/portability: write the report "
                                                  "(JSON) here instead of mailing the "
                                                  "person their link")] = None,
    result: Annotated[str, typer.Option(help="What was done (rectification, objection, "
                                              "restriction)")] = "",
    language: Annotated[str, typer.Option(help="Language of the mail or report")] = "en",
) -> None:
    """Fulfil a request as the self-service page would.

    Access and portability: the person is mailed their link, or the report is written
    to --out. Erasure: the person is erased. Other kinds are closed with --result.

    Example: ehrlich requests fulfil 0193… --out report.json
    """
    with command_instance(ctx) as instance:
        done = instance.service(RightsService).fulfil(
            instance.db, instance.mail, request_id, role=ROLE, actor=ACTOR, language=language,
            deliver="report" if out else "mail", result=result, now=_now())
    if done.report is not None and out is not None:
        # readable by the owner alone from the first byte
        with os.fdopen(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
                       encoding="utf-8") as file:
            file.write(report_json(done.report))
        console.print(f"Report written to {out}: it holds personal data; destroy it once "
                      "it has been handed over.")
    elif done.mailed:
        console.print("The person was mailed a link to their report.")
    _print(done.request)
