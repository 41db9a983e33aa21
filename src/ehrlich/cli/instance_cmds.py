"""`ehrlich init`, `serve`, `migrate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ehrlich.auth.service import create_owner
from ehrlich.backup.keys import backup_keys_advice
from ehrlich.cli.context import console, instance_from, now, opened_instance, settings_from
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
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
    console.print(f"[green]Instance created.[/green] Configuration: {config_file}")
    console.print(f"Key file: {settings.key_file.absolute()} (mode 0600)")
    console.print(f"Example privacy notice: {settings.data_dir.absolute() / 'notice.yaml'} "
                  "(edit it, then `ehrlich notice publish`)")
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

    instance = instance_from(ctx)
    settings = instance.settings
    bind_host = host or settings.host
    bind_port = port or settings.port
    console.print(f"ehrlich is serving on http://{bind_host}:{bind_port}/")
    console.print(f"  Staff console: http://{bind_host}:{bind_port}/admin  (sign in with the "
                  "owner account and the one-time password `ehrlich init` printed; "
                  "`ehrlich user reset EMAIL` makes a new one)")
    console.print(f"  Signup form:   http://{bind_host}:{bind_port}/signup  "
                  "(after `ehrlich notice publish`)")
    console.print(f"  API reference: http://{bind_host}:{bind_port}/api/docs")
    console.print(f"  Health:        http://{bind_host}:{bind_port}/healthz")
    console.print("  API access:    create a token with "
                  "`ehrlich token create --name NAME --scope subjects:write`")
    consumer = None
    if settings.inprocess_worker:
        consumer = instance.jobs.consumer(workers=settings.worker_threads, in_process=True)
        consumer.start()
    try:
        uvicorn.run(create_app(instance), host=bind_host, port=bind_port,
                    log_level="info", proxy_headers=True, server_header=False,
                    forwarded_allow_ips=settings.trusted_proxies)
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
        instance.close()


def worker(ctx: typer.Context) -> None:
    """Run the job worker (mail, scheduled backups, retention) in this process.

    Use it when `ehrlich serve` runs with EHRLICH_INPROCESS_WORKER=false, as in a
    deployment with several server processes. Example: ehrlich worker
    """
    with opened_instance(ctx) as instance:
        console.print(f"ehrlich worker: {len(instance.jobs.task_names)} job kinds registered")
        instance.jobs.consumer(workers=instance.settings.worker_threads, in_process=False).run()
