"""`ehrlich backup create|verify|restore|list|prune`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ehrlich.cli.context import console, domains_from, now, opened_instance, settings_from
from ehrlich.domains import build_core

app = typer.Typer(help="Encrypted, verified backups (see docs/backup.md).",
                  no_args_is_help=True)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@app.command("create")
def create(
    ctx: typer.Context,
    verify: Annotated[bool, typer.Option(help="Verify the new backup at once")] = False,
) -> None:
    """Snapshot the database into an encrypted archive at the configured destination.

    Only the public recipients are needed. Example: ehrlich backup create --verify
    """
    with opened_instance(ctx) as instance:
        sidecar = instance.backup.create(now=now(), actor="cli")
        console.print(f"Backup {sidecar.manifest.backup_id} written: "
                      f"{_size(sidecar.archive_size)} at {instance.backup.store().url}")
        if verify:
            report = instance.backup.verify(sidecar.manifest.backup_id, now=now(), actor="cli")
            console.print(f"[green]Verified:[/green] {report.detail}")


@app.command("verify")
def verify(
    ctx: typer.Context,
    backup_id: Annotated[str | None, typer.Argument(help="Backup id (see `backup list`)")] = None,
    latest: Annotated[bool, typer.Option(help="Verify the newest backup")] = False,
    identity: Annotated[Path | None, typer.Option(
        help="age identity file (default: the operations identity)")] = None,
) -> None:
    """Check size and hash, decrypt, restore into a scratch database, compare counts.

    The outcome is recorded. Example: ehrlich backup verify --latest
    """
    if (backup_id is None) == (not latest):
        raise typer.BadParameter("give a backup id or --latest")
    with opened_instance(ctx) as instance:
        chosen = backup_id or instance.backup.latest_id()
        report = instance.backup.verify(chosen, now=now(), identity_file=identity, actor="cli")
    console.print(f"[green]Backup {chosen} verified:[/green] {report.detail}")


@app.command("restore")
def restore(
    ctx: typer.Context,
    backup_id: Annotated[str, typer.Argument(help="Backup id (see `backup list`)")],
    identity: Annotated[Path, typer.Option(help="age identity file that opens the backup")],
    target: Annotated[str | None, typer.Option(
        help="Database URL to restore into (default: the instance's database)")] = None,
    force: Annotated[bool, typer.Option(
        help="Replace a database that already holds an instance")] = False,
    ledger: Annotated[Path | None, typer.Option(
        help="Erasure ledger to replay (default: the instance's)")] = None,
) -> None:
    """Restore a backup, replaying the erasure ledger; mail is held until it finishes.

    Example: ehrlich backup restore ehrlich-20261129T021700Z-1a2b3c4d --identity recovery.agekey
    """
    from ehrlich.backup.restore import restore_backup

    core = build_core(settings_from(ctx, erasure_ledger=ledger), domains=domains_from(ctx))
    try:
        report = restore_backup(core, backup_id, identity_file=identity, target_url=target,
                                force=force, now=now())
    finally:
        core.close()
    console.print(f"[green]Backup {backup_id} restored[/green] into {report.target}: "
                  f"{sum(report.row_counts.values())} rows; "
                  f"{report.erasures_replayed} erasures replayed from the ledger.")


@app.command("list")
def list_backups(ctx: typer.Context) -> None:
    """Show complete backups: time, size, destination, verified status.

    Example: ehrlich backup list
    """
    with opened_instance(ctx) as instance:
        rows = instance.backup.list_backups()
    table = Table("id", "time (UTC)", "size", "destination", "verified")
    for r in rows:
        status = r.verified if r.verified_at is None else \
            f"{r.verified} ({r.verified_at.isoformat(timespec='minutes')})"
        table.add_row(r.backup_id, r.created_at.isoformat(timespec="seconds"), _size(r.size),
                      r.destination, status)
    console.print(table)


@app.command("prune")
def prune(ctx: typer.Context) -> None:
    """Delete backups that retention (backup_keep: daily, weekly, monthly) no longer keeps.

    Example: ehrlich backup prune
    """
    with opened_instance(ctx) as instance:
        gone = instance.backup.prune(now=now(), actor="cli")
        age = instance.backup.max_backup_age()
    console.print(f"{len(gone)} backups deleted. With daily backups none is older than "
                  f"{age.days} days.")
