"""`ehrlich init`, `serve`, `migrate`."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Annotated

import typer

from ehrlich.auth.service import create_owner
from ehrlich.backup.keys import backup_keys_advice
from ehrlich.cli.context import (
    console,
    domains_from,
    now,
    opened_instance,
    settings_from,
)
from ehrlich.domains import open_instance
from ehrlich.instance.commands import shown_path
from ehrlich.instance.service import Instance, init_instance
from ehrlich.jobs.worker import Worker
from ehrlich.registry import command_line
from ehrlich.storage import migrate as migrations
from ehrlich.storage.database import Database


def init(
    ctx: typer.Context,
    data_dir: Annotated[Path | None, typer.Option(
        help="Where the database and ledger live (default: .ehrlich/data)")] = None,
    key_file: Annotated[Path | None, typer.Option(
        help="Key file, outside the data directory (default: .ehrlich/keys/ehrlich.key)")] = None,
    owner_email: Annotated[str, typer.Option(
        help="Email of the owner account created now")] = "owner@example.org",
) -> None:
    """Create a new instance: data directory, key file, configuration, database.

    Example: ehrlich init --data-dir /srv/ehrlich/data --key-file /etc/ehrlich/ehrlich.key
    """
    settings = settings_from(ctx, data_dir=data_dir, key_file=key_file)
    config_file = init_instance(settings, now=now())
    instance = open_instance(settings)
    try:
        password = create_owner(instance.db, instance.staff, email=owner_email, now=now())
    finally:
        instance.close()
    command = command_line(ctx, settings)
    notice = shown_path(settings.data_dir / "notice.yaml")
    console.print(f"[green]Instance created.[/green] Configuration: {config_file}")
    console.print(f"Key file: {settings.key_file.absolute()} (mode 0600)")
    console.print(f"Example privacy notice: {notice} (edit it, then publish it with "
                  f"`{command} notice publish {notice}`)", soft_wrap=True, highlight=False)
    console.print("[bold]Back up the key file somewhere safe, apart from the data:[/bold] "
                  "without it nothing in the database can be read.")
    console.print(backup_keys_advice(settings.key_file.absolute()))
    console.print(f"Owner account: {owner_email}, one-time password (shown once; valid for "
                  f"{settings.initial_password_hours} hours; change it and set up an "
                  "authenticator app at the first sign-in on /admin):")
    console.print(password, soft_wrap=True, highlight=False)


def migrate(ctx: typer.Context) -> None:
    """Bring the database schema up to date.

    Example: ehrlich migrate
    """
    settings = settings_from(ctx)
    db = Database(settings.effective_database_url)
    try:
        migrations.upgrade(db)
    finally:
        db.dispose()
    console.print("Database schema is up to date.")


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Serve the web application and API.

    Example: ehrlich serve --host 127.0.0.1 --port 8000
    """
    import uvicorn

    from ehrlich.app import create_app
    from ehrlich.web.access_log import log_config

    _cap_malloc_arenas()
    # the options are settings of this run, so links (base_url, unless set) follow them
    instance = open_instance(settings_from(ctx, host=host, port=port),
                             domains=domains_from(ctx))
    settings = instance.settings
    bind_host, bind_port = settings.host, settings.port
    for line in _banner(instance, command_line(ctx, settings),
                        f"http://{bind_host}:{bind_port}"):
        console.print(line, soft_wrap=True, highlight=False)
    consumer = None
    if settings.inprocess_worker:
        consumer = job_worker(instance)
        consumer.start()
    try:
        app = create_app(instance, command=command_line(ctx, settings, absolute=True))
        uvicorn.run(app, host=bind_host, port=bind_port,
                    log_level="info", log_config=log_config(), proxy_headers=True,
                    server_header=False,
                    forwarded_allow_ips=settings.trusted_proxies)
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
        instance.close()


MALLOC_ARENAS = 2
"""glibc malloc arenas of a `serve` process. By default glibc gives each new thread an arena
of its own, up to 8 per core, and each keeps the memory its thread freed: the request
threads added about 1 MiB of resident memory each (bench/RESULTS.md, serve_memory). Python
holds the GIL around most allocations, so threads sharing two arenas seldom wait."""


def _cap_malloc_arenas() -> None:
    """Limit glibc's malloc arenas before any thread starts, unless the operator chose a
    number with MALLOC_ARENA_MAX; elsewhere than glibc this does nothing."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        return
    m_arena_max = -8  # glibc's M_ARENA_MAX
    mallopt(m_arena_max, MALLOC_ARENAS)


def _banner(instance: Instance, command: str, url: str) -> list[str]:
    """Where things are, and the commands to type, as they work from here. The one-time
    password is mentioned only while an owner still has a valid one to use."""
    with instance.db.read() as session:
        pending = instance.staff.users.owners_awaiting_first_sign_in(session, now=now())
        published = instance.notices.count(session) > 0
    console_hint = ""
    valid = [email for email, still_valid in pending if still_valid]
    expired = [email for email, still_valid in pending if not still_valid]
    if valid:
        console_hint = (f"  (sign in as {', '.join(valid)} with the one-time password "
                        "`ehrlich init` printed)")
    elif expired:
        console_hint = (f"  (the one-time password of {expired[0]} has expired; make a new "
                        f"one with `{command} user reset {expired[0]}`)")
    notice = shown_path(instance.settings.data_dir / "notice.yaml")
    signup_hint = "" if published else f"  (after `{command} notice publish {notice}`)"
    from ehrlich.mail.status import mail_status

    mail = mail_status(instance.settings)
    mail_lines = ([f"  Mail:          on, {mail.detail}"] if mail.on else
                  [f"  [yellow]Mail:          OFF[/yellow], {mail.detail}.",
                   f"                 To turn it on: {mail.fix}."])
    signing_lines = [] if instance.settings.backup_signing_public_key.strip() else [
        "  [yellow]Backups:       NOT POSSIBLE[/yellow], this instance was made before backups "
        "were signed.",
        f"                 To sign them: `{command} backup signing-key create`."]
    return [
        f"ehrlich is serving on {url}/",
        f"  Staff console: {url}/admin{console_hint}",
        f"  Signup form:   {url}/signup{signup_hint}",
        f"  API reference: {url}/api/docs",
        f"  Health:        {url}/healthz",
        f"  API access:    create a token with `{command} token create --name NAME "
        "--scope subjects:write`",
        *mail_lines,
        *signing_lines,
    ]


def job_worker(instance: Instance) -> Worker:
    return Worker(instance.jobs, threads=instance.settings.worker_threads,
                  lease_seconds=instance.settings.job_lease_seconds)


def worker(ctx: typer.Context) -> None:
    """Run the job worker (mail, scheduled backups, retention) in this process.

    Use it when `ehrlich serve` runs with EHRLICH_INPROCESS_WORKER=false, as in a
    deployment with several server processes. Example: ehrlich worker
    """
    with opened_instance(ctx) as instance:
        console.print(f"ehrlich worker: {len(instance.jobs.task_names)} job kinds registered")
        job_worker(instance).run()
