"""`ehrlich backup create|verify|restore|list|prune`, `ehrlich backup signing-key create`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ehrlich.cli.context import (
    CliState,
    console,
    domains_from,
    err_console,
    now,
    opened_instance,
    settings_from,
)
from ehrlich.domains import build_core
from ehrlich.settings import config_file_for

app = typer.Typer(help="Encrypted, verified backups (see docs/backup.md).",
                  no_args_is_help=True)
signing_key = typer.Typer(help="The key that signs every backup's manifest.",
                          no_args_is_help=True)
app.add_typer(signing_key, name="signing-key")

UNSIGNED = "unsigned (made before signing)"
AllowUnsigned = Annotated[bool, typer.Option(
    "--allow-unsigned", help="Accept a backup made before signing (its manifest has no "
    "signature, so nothing proves this instance made it); recorded in the audit chain")]


def _warn_unsigned(backup_id: str) -> None:
    err_console.print(f"[yellow]Warning:[/yellow] backup {backup_id} is {UNSIGNED}: nothing "
                      "proves this instance made it or that its manifest is unchanged. "
                      "Accepted because of --allow-unsigned; the audit chain records it.")


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
    allow_unsigned: AllowUnsigned = False,
) -> None:
    """Check size and hash, decrypt, restore into a scratch database, compare counts.

    The outcome is recorded. Example: ehrlich backup verify --latest
    """
    if (backup_id is None) == (not latest):
        raise typer.BadParameter("give a backup id or --latest")
    with opened_instance(ctx) as instance:
        chosen = backup_id or instance.backup.latest_id()
        report = instance.backup.verify(chosen, now=now(), identity_file=identity, actor="cli",
                                        allow_unsigned=allow_unsigned)
    if not report.signed:
        _warn_unsigned(chosen)
    console.print(f"[green]Backup {chosen} verified:[/green] {report.detail}")


_LEDGER_SOURCES = {
    "live": "the live ledger, which is newer than the backup's copy",
    "backup copy": "the backup's copy, newer than the live ledger, which got its "
                   "missing entries back",
    "both": "the live ledger and the backup's copy, which had diverged",
}


@app.command("restore")
def restore(
    ctx: typer.Context,
    backup_id: Annotated[str, typer.Argument(help="Backup id (see `backup list`)")],
    identity: Annotated[Path, typer.Option(help="age identity file that opens the backup")],
    target: Annotated[str | None, typer.Option(
        help="Database URL to restore into (default: the instance's database)")] = None,
    force: Annotated[bool, typer.Option(
        help="Replace a database that already holds an instance")] = False,
    ledger: Annotated[str | None, typer.Option(
        help="URL of the erasure ledger database to replay, e.g. a good copy "
             "(default: the instance's ledger_url)")] = None,
    allow_unsigned: AllowUnsigned = False,
) -> None:
    """Restore a backup, replaying the erasure ledger; mail is held until it finishes.

    Example: ehrlich backup restore ehrlich-20261129T021700Z-1a2b3c4d --identity recovery.agekey
    """
    from ehrlich.backup.restore import restore_backup

    core = build_core(settings_from(ctx, ledger_url=ledger), domains=domains_from(ctx))
    try:
        report = restore_backup(core, backup_id, identity_file=identity, target_url=target,
                                force=force, now=now(), allow_unsigned=allow_unsigned)
    finally:
        core.close()
    if not report.signed:
        _warn_unsigned(backup_id)
    console.print(f"[green]Backup {backup_id} restored[/green] into {report.target}: "
                  f"{sum(report.row_counts.values())} rows; "
                  f"{report.erasures_replayed} erasures replayed from the ledger "
                  f"({_LEDGER_SOURCES[report.ledger]}).")


@app.command("list")
def list_backups(ctx: typer.Context) -> None:
    """Show complete backups: time, size, destination, verified status.

    Example: ehrlich backup list
    """
    with opened_instance(ctx) as instance:
        rows = instance.backup.list_backups()
    table = Table("id", "time (UTC)", "size", "destination", "verified", "manifest")
    for r in rows:
        status = r.verified if r.verified_at is None else \
            f"{r.verified} ({r.verified_at.isoformat(timespec='minutes')})"
        table.add_row(r.backup_id, r.created_at.isoformat(timespec="seconds"), _size(r.size),
                      r.destination, status, "signed" if r.signed else UNSIGNED)
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


@signing_key.command("create")
def create_signing_key(ctx: typer.Context) -> None:
    """Give an instance made before signing its manifest signing key.

    Writes the key (mode 0600) beside the backup identities and adds
    backup_signing_public_key to ehrlich.toml; never replaces an existing key.
    Example: ehrlich backup signing-key create
    """
    from ehrlich.backup.keys import add_signing_key

    settings = settings_from(ctx)
    state: CliState = ctx.obj or CliState()
    config = state.config or config_file_for(settings.data_dir)
    path, public_key = add_signing_key(settings, config)
    console.print(f"Backup signing key written to {path} (keep it with the backup "
                  f"identities); its public key {public_key} is now in the configuration. "
                  "New backups are signed; older ones are listed as "
                  f"{UNSIGNED}.")
