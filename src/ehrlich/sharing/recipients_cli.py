"""`ehrlich recipients …`: the recipients' webhook endpoints, the notifications sent to
them, the tasks for staff where a recipient has no endpoint, and `sync` (a processor
sync run now). The operator at the CLI
acts as `cli:<account>`."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ehrlich.errors import InvalidInput
from ehrlich.registry import command_instance
from ehrlich.sharing.copies import Caller
from ehrlich.sharing.notifications import RecipientNotices
from ehrlich.sharing.processors import ProcessorSyncService
from ehrlich.sharing.webhooks import STATUSES, Webhooks

console = Console(soft_wrap=True, highlight=False)
recipients = typer.Typer(help="Recipients' webhook endpoints, notifications sent to them, "
                         "and tasks for staff.", no_args_is_help=True)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"[:200]


def _now() -> datetime:
    return datetime.now(UTC)


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else "—"


@recipients.command("list")
def list_recipients(ctx: typer.Context) -> None:
    """The notice's recipients, their endpoints, failing deliveries and open tasks."""
    with command_instance(ctx) as instance, instance.db.read() as session:
        rows = instance.service(RecipientNotices).overview(session)
    table = Table(title="Recipients")
    for column in ("id", "name", "endpoint", "set", "failing", "open tasks"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.id, r.name, r.endpoint.url if r.endpoint else "— (tasks for staff)",
                      _when(r.endpoint.set_at if r.endpoint else None), str(r.failing),
                      str(r.open_tasks))
    console.print(table)


@recipients.command("set-endpoint")
def set_endpoint(ctx: typer.Context,
                 recipient: Annotated[str, typer.Argument(help="The recipient's id")],
                 url: Annotated[str, typer.Argument(help="https:// URL that takes webhooks")],
                 keep_secret: Annotated[bool, typer.Option(
                     help="Change only the URL, keep the signing secret")] = False) -> None:
    """Where a recipient takes signed webhooks; prints its new signing secret once.
    Example: ehrlich recipients set-endpoint mailer https://mail.example/hooks/ehrlich"""
    with command_instance(ctx) as instance, instance.db.write() as session:
        secret = instance.service(RecipientNotices).set_endpoint(
            session, recipient, url, actor=_actor(), now=_now(), rotate=not keep_secret)
    console.print(f"{recipient} takes webhooks at {url.strip()}")
    if secret is not None:
        console.print("Signing secret (shown once; give it to the recipient, it cannot be "
                      f"shown again):\n{secret}")


@recipients.command("remove-endpoint")
def remove_endpoint(ctx: typer.Context,
                    recipient: Annotated[str, typer.Argument(help="The recipient's id")]
                    ) -> None:
    """From now on, staff get a task instead of a webhook for this recipient."""
    with command_instance(ctx) as instance, instance.db.write() as session:
        removed = instance.service(Webhooks).remove_endpoint(session, recipient,
                                                             actor=_actor(), now=_now())
    console.print(f"{recipient}: endpoint removed" if removed
                  else f"{recipient} had no endpoint")


@recipients.command("deliveries")
def deliveries(ctx: typer.Context,
               status: Annotated[str | None, typer.Option(
                   help=f"One of {', '.join(STATUSES)}")] = None,
               recipient: Annotated[str | None, typer.Option(help="One recipient")] = None,
               subject: Annotated[str | None, typer.Option(
                   help="What a delivery is about (a person's id)")] = None,
               limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """Webhooks sent to recipients, newest first, with their outcome.
    Example: ehrlich recipients deliveries --status failing"""
    chosen = next((s for s in STATUSES if s == status), None)
    if status is not None and chosen is None:
        raise InvalidInput.one("--status", f"must be one of {', '.join(STATUSES)}")
    with command_instance(ctx) as instance, instance.db.read() as session:
        rows = instance.service(Webhooks).deliveries(session, recipient=recipient,
                                                     reference=subject, status=chosen,
                                                     limit=limit)
    table = Table(title="Webhook deliveries")
    for column in ("created", "recipient", "event", "about", "state", "tries", "last answer",
                   "next try"):
        table.add_column(column)
    for d in rows:
        table.add_row(_when(d.created_at), d.recipient, d.event, d.reference, d.status,
                      str(d.attempts), d.last_result or "—", _when(d.next_try_at))
    console.print(table)


@recipients.command("tasks")
def tasks(ctx: typer.Context,
          all_: Annotated[bool, typer.Option("--all", help="Done ones too")] = False) -> None:
    """What staff must tell recipients without an endpoint (oldest first)."""
    with command_instance(ctx) as instance, instance.db.read() as session:
        rows = instance.service(RecipientNotices).tasks(session, open_only=not all_)
    table = Table(title="Tasks for staff")
    for column in ("id", "since", "recipient", "tell them", "about", "done"):
        table.add_column(column)
    for t in rows:
        table.add_row(t.id, _when(t.created_at), t.recipient, t.event, t.reference,
                      f"{_when(t.done_at)} by {t.done_by}: {t.note}" if t.done_at else "no")
    console.print(table)


@recipients.command("task-done")
def task_done(ctx: typer.Context,
              task_id: Annotated[str, typer.Argument(help="The task's id")],
              note: Annotated[str, typer.Option(help="How the recipient was told")]) -> None:
    """Record that the recipient was told, with you as the one who did it.
    Example: ehrlich recipients task-done 0193... --note 'mail to privacy@carrier.example'"""
    with command_instance(ctx) as instance, instance.db.write() as session:
        view = instance.service(RecipientNotices).mark_done(session, task_id, actor=_actor(),
                                                            note=note, now=_now())
    console.print(f"task {view.id} done by {view.done_by}")


@recipients.command("sync")
def sync_recipient(
    ctx: typer.Context,
    recipient: Annotated[str, typer.Argument(help="The recipient's id in the notice")],
    purpose: Annotated[str, typer.Option(help="The purpose of the published notice")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count who would be added, removed and corrected; send nothing")
    ] = False,
) -> None:
    """Run the configured sync now: everyone the first time, then the changes since the
    last successful run. Example: ehrlich recipients sync mailer --purpose newsletter"""
    with command_instance(ctx) as instance:
        run = instance.service(ProcessorSyncService).run(recipient, purpose,
                                                         Caller(_actor()),
                                                         now=_now(), dry_run=dry_run)
    if dry_run:
        console.print(f"dry run: {run.added} would be added, {run.removed} removed, "
                      f"{run.changed} corrected; nothing was sent")
        return
    console.print(f"{run.kind} run {run.id}: {run.outcome}, {run.added} added, "
                  f"{run.removed} removed, {run.changed} corrected")
