"""`ehrlich keys rotate|status|retire`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from ehrlich.cli.context import console, opened_instance
from ehrlich.instance.keys import add_kek, keys_to_rewrap, retire_kek, rewrap_all
from ehrlich.instance.service import Instance
from ehrlich.registry import command_line
from ehrlich.subjects.data_keys import count_by_kek_version

app = typer.Typer(help="Key-encryption keys: rotation and retirement.", no_args_is_help=True)


def _rewrap(instance: Instance) -> int:
    active = instance.keyring.provider.active_version
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task(f"Re-wrapping data keys under KEK {active}",
                                 total=keys_to_rewrap(instance))
        return rewrap_all(instance, progress=lambda n: progress.advance(task, n))


@app.command("rotate")
def rotate(
    ctx: typer.Context,
    resume: Annotated[bool, typer.Option(
        help="Only re-wrap (after --stage, or after an interrupted rotation)")] = False,
    stage: Annotated[bool, typer.Option(
        help="Only add the new KEK version; give every host the new version (copy the key "
        "file), then --resume")
    ] = False,
) -> None:
    """Add a KEK version and re-wrap every data key under it, in resumable batches.

    Reads keep working throughout. Example: ehrlich keys rotate
    """
    with opened_instance(ctx) as instance:
        if not resume:
            version = add_kek(instance)
            console.print(f"KEK version {version} added and active.")
        location = instance.keyring.provider.location
        if stage:
            console.print(f"Give every host the new version in {location}, then run "
                          f"`{command_line(ctx, instance.settings)} keys rotate --resume`.")
            return
        done = _rewrap(instance)
    console.print(f"{done} data keys re-wrapped. Back up {location} now.")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show KEK versions and how many data keys each wraps.

    Example: ehrlich keys status
    """
    with opened_instance(ctx) as instance:
        with instance.db.read() as session:
            counts = count_by_kek_version(session)
        provider = instance.keyring.provider
        table = Table("KEK version", "active", "data keys")
        for version in sorted(provider.versions() | set(counts)):
            table.add_row(str(version), "yes" if version == provider.active_version else "",
                          str(counts.get(version, 0)))
    console.print(table)


@app.command("retire")
def retire(ctx: typer.Context, version: int) -> None:
    """Destroy an old KEK version once no data key uses it.

    Example: ehrlich keys retire 1
    """
    with opened_instance(ctx) as instance:
        retire_kek(instance, version)
        location = instance.keyring.provider.location
    console.print(f"KEK version {version} removed from {location}.")
