"""`ehrlich copies list|show|destroy` and `ehrlich export`: the register and the exports
from the command line. The operator at the CLI acts as `cli:<account>`, with every right."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from ehrlich.errors import InvalidInput
from ehrlich.registry import command_instance
from ehrlich.sharing.copies import Caller, CopiesService
from ehrlich.sharing.schemas import KINDS, STATUSES, CopyFilters, CopyView
from ehrlich.sharing.service import ExportRequest, SharingService

console = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, highlight=False)
copies = typer.Typer(help="The register of exported copies: list, show, mark destroyed.",
                     no_args_is_help=True)
export = typer.Typer(invoke_without_command=True, help=(
    "Export an audience as a tracked copy, or release it to a recipient of the notice.\n\n"
    "Example: ehrlich export --purpose newsletter --channel email --format csv "
    "--reason 'December mailing from our mail tool' --to 'Mail tool upload' "
    "--output audience.csv"))


def _caller() -> Caller:
    return Caller(f"cli:{getpass.getuser()}"[:200])


def _now() -> datetime:
    return datetime.now(UTC)


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput.one("--expires", "enter a date as YYYY-MM-DD") from None


@copies.command("list")
def list_copies(ctx: typer.Context,
                status: Annotated[str | None, typer.Option(
                    help=f"One of {', '.join(STATUSES)}")] = None,
                kind: Annotated[str | None, typer.Option(
                    help=f"One of {', '.join(KINDS)}")] = None,
                limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """The newest copies. Example: ehrlich copies list --status overdue"""
    if status is not None and status not in STATUSES:
        raise InvalidInput.one("--status", f"must be one of {', '.join(STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise InvalidInput.one("--kind", f"must be one of {', '.join(KINDS)}")
    now = _now()
    with command_instance(ctx) as instance, instance.db.read() as session:
        rows, more = instance.service(CopiesService).page(
            session, CopyFilters(status=status, kind=kind), _caller(),
            now=now, limit=limit)
    table = Table(title="Copies")
    for column in ("id", "state", "kind", "what", "holder", "rows", "destroy by"):
        table.add_column(column)
    for c in rows:
        table.add_row(c.id, c.status, c.kind, c.what, c.holder,
                      "—" if c.rows is None else str(c.rows), f"{c.expires_at:%Y-%m-%d}")
    console.print(table)
    if more:
        console.print(f"(more than {limit}; use --limit or a filter)")


def _show(c: CopyView) -> None:
    for label, value in (
            ("id", c.id), ("state", c.status), ("kind", c.kind), ("what", c.what),
            ("fields", ", ".join(c.fields)), ("format", c.format),
            ("rows", "incomplete" if c.rows is None else str(c.rows)),
            ("digest", c.digest or "—"), ("holder", c.holder), ("reason", c.reason),
            ("goes to", c.destination), ("issued", f"{c.issued_at:%Y-%m-%d %H:%M} UTC"),
            ("destroy by", f"{c.expires_at:%Y-%m-%d %H:%M} UTC"),
            ("destroyed", f"{c.destroyed_at:%Y-%m-%d %H:%M} UTC by {c.destroyed_by}"
             if c.destroyed_at else "no")):
        console.print(f"{label:>10}: {value}")


@copies.command("show")
def show_copy(ctx: typer.Context, copy_id: Annotated[str, typer.Argument(help="The copy's id")]
              ) -> None:
    """One copy. Example: ehrlich copies show 0193..."""
    with command_instance(ctx) as instance, instance.db.read() as session:
        _show(instance.service(CopiesService).get(session, copy_id, _caller(), now=_now()))


@copies.command("destroy")
def destroy_copy(ctx: typer.Context,
                 copy_id: Annotated[str, typer.Argument(help="The copy's id")],
                 note: Annotated[str, typer.Option(help="How it was destroyed")] = "") -> None:
    """Record that a copy was destroyed, with you as the one who confirmed it.
    Example: ehrlich copies destroy 0193... --note 'deleted from the laptop and the mail tool'"""
    with command_instance(ctx) as instance, instance.db.write() as session:
        view = instance.service(CopiesService).destroy(session, copy_id, _caller(), note=note,
                                                       now=_now())
    console.print(f"copy {view.id} recorded as destroyed by {view.destroyed_by}")


@export.callback()
def export_file(
    ctx: typer.Context,
    purpose: Annotated[str, typer.Option(help="The purpose of the published notice")],
    output: Annotated[Path, typer.Option(help="The file to write (must not exist)",
                                         dir_okay=False)],
    reason: Annotated[str, typer.Option(help="Why the file is needed (recorded)")],
    channel: Annotated[str | None, typer.Option(
        help="email, sms or phone (default: the purpose's channel)")] = None,
    recipient: Annotated[str | None, typer.Option(
        help="Release to this recipient of the notice (a disclosure)")] = None,
    format: Annotated[str, typer.Option(help="csv or ndjson")] = "csv",
    to: Annotated[str | None, typer.Option(
        "--to", help="Where the file goes (default for a recipient: the recipient)")] = None,
    expires: Annotated[str | None, typer.Option(
        help="Destroy by YYYY-MM-DD (default: copy_keep_days from today)")] = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if format not in ("csv", "ndjson"):
        raise InvalidInput.one("--format", "must be csv or ndjson")
    fmt: Literal["csv", "ndjson"] = "csv" if format == "csv" else "ndjson"
    destination = to or (f"recipient {recipient}" if recipient else "")
    if output.exists():
        raise InvalidInput.one("--output", f"{output} exists; choose a new file")
    now = _now()
    with command_instance(ctx) as instance:
        sharing = instance.service(SharingService)
        if recipient is None:
            file = sharing.export_audience(ExportRequest(
                purpose, channel or "", fmt, reason, destination, _day(expires)),
                _caller(), now=now)
        else:
            file = sharing.release(ExportRequest(
                purpose, channel or "", fmt, reason, destination, _day(expires)), recipient,
                _caller(), now=now)
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in file.body:
                out.write(chunk)
    err.print(f"{file.body.rows} rows written to {output} ({file.body.digest}); recorded as "
              f"copy {file.copy_id}: destroy it by {file.expires_at:%Y-%m-%d} and confirm with "
              f"`ehrlich copies destroy {file.copy_id}`")

