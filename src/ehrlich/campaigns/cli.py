"""`ehrlich campaign`: write, send, pause, resume, cancel and report campaigns.

Commands parse their input, call one service function and print; domain errors
become messages and exit codes in `ehrlich.cli.main`.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ehrlich.campaigns.machine import Action
from ehrlich.campaigns.schemas import CampaignInput
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.webhook import PREFIX
from ehrlich.errors import InvalidInput
from ehrlich.registry import command_instance

app = typer.Typer(help="Campaigns to the consented audience (see docs/campaigns.md).",
                  no_args_is_help=True)
ACTOR = "cli"
console = Console()



def _read(path: Path | None, field: str) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput.one(field, f"cannot read {path}: {exc}") from exc


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("create")
def create(ctx: typer.Context,
           name: Annotated[str, typer.Option(help="What staff call it")],
           purpose: Annotated[str, typer.Option(help="The notice's purpose id")],
           subject: Annotated[str, typer.Option(help="Subject line (a template)")],
           text: Annotated[Path, typer.Option(help="Plain-text body template file")],
           html: Annotated[Path | None, typer.Option(help="HTML body template file")] = None,
           language: Annotated[str, typer.Option()] = "en") -> None:
    """Write a draft campaign.

    Example: ehrlich campaign create --name "Autumn" --purpose newsletter
    --subject "Hello {{ name }}" --text autumn.txt --html autumn.html
    """
    data = CampaignInput(name=name, purpose=purpose, subject=subject, language=language,
                         text_body=_read(text, "text"), html_body=_read(html, "html"))
    with command_instance(ctx) as instance:
        view = instance.service(CampaignsService).create(instance.db, data, actor=ACTOR,
                                                         now=_now())
    console.print(view.id)


@app.command("list")
def list_campaigns(ctx: typer.Context) -> None:
    """The latest campaigns. Example: ehrlich campaign list"""
    with command_instance(ctx) as instance:
        views = instance.service(CampaignsService).recent(instance.db)
    for view in views:
        console.print(f"{view.id}  {view.status:<9}  {view.purpose}/{view.channel}  {view.name}")


@app.command("report")
def report(ctx: typer.Context, campaign_id: str) -> None:
    """Counts for one campaign. Example: ehrlich campaign report ID"""
    with command_instance(ctx) as instance:
        service = instance.service(CampaignsService)
        view = service.get(instance.db, campaign_id)
        counts = service.report(instance.db, campaign_id)
    console.print(f"{view.name}: {view.status}")
    for key, value in vars(counts).items():
        shown = f"{value:>8.2%}" if isinstance(value, float) else f"{value:>8,}"
        console.print(f"  {key:<15} {shown}")
    if view.paused_reason:
        console.print(f"  paused by ehrlich: {view.paused_reason} (complaints:N:delivered)")


def _act(ctx: typer.Context, campaign_id: str, action: Action, at: datetime | None = None
         ) -> None:
    with command_instance(ctx) as instance:
        view = instance.service(CampaignsService).act(instance.db, campaign_id, action,
                                                      actor=ACTOR, now=_now(), at=at)
    console.print(f"{view.id}: {view.status}")


@app.command("send")
def send(ctx: typer.Context, campaign_id: str) -> None:
    """Start sending now (a worker sends it). Example: ehrlich campaign send ID"""
    _act(ctx, campaign_id, "send")


@app.command("schedule")
def schedule(ctx: typer.Context, campaign_id: str,
             at: Annotated[datetime, typer.Option(help="When, ISO 8601 (UTC if no zone)")]
             ) -> None:
    """Send at a time. Example: ehrlich campaign schedule ID --at 2026-12-01T09:00"""
    _act(ctx, campaign_id, "schedule", at if at.tzinfo else at.replace(tzinfo=UTC))


@app.command("pause")
def pause(ctx: typer.Context, campaign_id: str) -> None:
    """Hold sending. Example: ehrlich campaign pause ID"""
    _act(ctx, campaign_id, "pause")


@app.command("resume")
def resume(ctx: typer.Context, campaign_id: str) -> None:
    """Carry on where it stopped. Example: ehrlich campaign resume ID"""
    _act(ctx, campaign_id, "resume")


@app.command("cancel")
def cancel(ctx: typer.Context, campaign_id: str) -> None:
    """Stop for good. Example: ehrlich campaign cancel ID"""
    _act(ctx, campaign_id, "cancel")


@app.command("run")
def run(ctx: typer.Context, campaign_id: str) -> None:
    """Send a sending campaign in this process (what the worker's job does), resuming
    from its send table. Example: ehrlich campaign run ID"""
    from ehrlich.campaigns.tasks import run_campaign

    with command_instance(ctx) as instance:
        outcome = run_campaign(instance, campaign_id)
    if outcome is None:
        console.print("not sending, or another worker is sending it")
        raise typer.Exit(6)
    console.print(f"{outcome.status}: {outcome.sent} sent, {outcome.deferred} deferred, "
                  f"{outcome.bounced} bounced, {outcome.skipped} skipped, "
                  f"{outcome.waiting} waiting")


@app.command("read-bounces")
def read_bounces(ctx: typer.Context) -> None:
    """Record the DSNs and ARF complaints in the bounce mailbox now (the worker does it
    every five minutes). Example: ehrlich campaign read-bounces"""
    with command_instance(ctx) as instance:
        run = instance.service(CampaignsService).read_bounce_mailbox(instance.db, now=_now())
    console.print(f"{run.handled} reports recorded, {run.left_unread} left unread")


@app.command("webhook-secret")
def webhook_secret() -> None:
    """Print a new secret for the bounce and complaint webhook, to set as
    EHRLICH_CAMPAIGN_WEBHOOK_SECRET and give to the mail provider.
    Example: ehrlich campaign webhook-secret"""
    console.print(PREFIX + base64.b64encode(secrets.token_bytes(32)).decode(), highlight=False)
