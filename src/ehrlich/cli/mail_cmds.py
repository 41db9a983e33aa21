"""`ehrlich mail read-unsubscribes`."""

from __future__ import annotations

import typer

from ehrlich.cli.context import console, instance_from, now
from ehrlich.consent.unsubscribe.mail_requests import read_unsubscribe_mailbox
from ehrlich.mail.imap import ImapConfig

app = typer.Typer(help="Mail that ehrlich reads (see docs/mail.md).", no_args_is_help=True)


@app.command("read-unsubscribes")
def read_unsubscribes(ctx: typer.Context) -> None:
    """Withdraw the consents that unread mails to the unsubscribe address ask to end.

    The worker does this every five minutes; run it from cron where no worker
    runs. Example: ehrlich mail read-unsubscribes
    """
    instance = instance_from(ctx)
    try:
        run = read_unsubscribe_mailbox(instance.db, instance.audit, instance.keyring,
                                       ImapConfig.required(instance.settings), now=now())
    finally:
        instance.close()
    console.print(f"{run.withdrawn} withdrawn, {run.left_unread} left unread for a person")
