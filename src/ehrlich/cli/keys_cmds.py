"""`ehrlich keys rotate|status|retire`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from ehrlich.cli.context import console, instance_from
from ehrlich.crypto.keyfile import add_kek_version, retire_kek_version
from ehrlich.errors import ConfigurationError
from ehrlich.instance.service import Instance, store_key_check

app = typer.Typer(help="Key-encryption keys: rotation and retirement.", no_args_is_help=True)


def _rewrap(instance: Instance) -> int:
    with instance.db.read() as session:
        counts = instance.subjects.count_by_kek_version(session)
    active = instance.keyring.provider.active_version
    todo = sum(n for v, n in counts.items() if v != active)
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task(f"Re-wrapping data keys under KEK {active}", total=todo)
        return instance.subjects.rewrap_data_keys(
            instance.db, batch=instance.settings.key_rotation_batch,
            progress=lambda n: progress.advance(task, n))


@app.command("rotate")
def rotate(
    ctx: typer.Context,
    resume: Annotated[bool, typer.Option(
        help="Only finish re-wrapping after an interrupted rotation")] = False,
) -> None:
    """Add a KEK version and re-wrap every data key under it, in resumable batches.

    Reads keep working throughout. Example: ehrlich keys rotate
    """
    instance = instance_from(ctx)
    try:
        if not resume:
            material = add_kek_version(instance.settings.key_file)
            instance.keyring.provider.reload()  # type: ignore[attr-defined]
            store_key_check(instance.db, instance.keyring, material.active)
            console.print(f"KEK version {material.active} added and active.")
        done = _rewrap(instance)
    finally:
        instance.close()
    console.print(f"{done} data keys re-wrapped. Back up the new key file now.")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show KEK versions and how many data keys each wraps.

    Example: ehrlich keys status
    """
    instance = instance_from(ctx)
    try:
        with instance.db.read() as session:
            counts = instance.subjects.count_by_kek_version(session)
        provider = instance.keyring.provider
        table = Table("KEK version", "active", "data keys")
        for version in sorted(provider.versions() | set(counts)):
            table.add_row(str(version), "yes" if version == provider.active_version else "",
                          str(counts.get(version, 0)))
    finally:
        instance.close()
    console.print(table)


@app.command("retire")
def retire(ctx: typer.Context, version: int) -> None:
    """Remove an old KEK version once no data key uses it.

    Example: ehrlich keys retire 1
    """
    instance = instance_from(ctx)
    try:
        with instance.db.read() as session:
            in_use = instance.subjects.count_by_kek_version(session).get(version, 0)
        if in_use:
            raise ConfigurationError(f"{in_use} data keys still use KEK version {version}; "
                                     "run `ehrlich keys rotate --resume` first")
        retire_kek_version(instance.settings.key_file, version)
    finally:
        instance.close()
    console.print(f"KEK version {version} removed from the key file.")
