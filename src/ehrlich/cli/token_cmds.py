"""`ehrlich token create|list|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ehrlich.auth.api_tokens import (
    SCOPES,
    issue_api_token,
    list_api_tokens,
    withdraw_api_token,
)
from ehrlich.cli.context import console, now, opened_instance

ACTOR = "cli"
app = typer.Typer(help="Scoped API tokens for integrations.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    scope: Annotated[list[str], typer.Option(help=f"Repeatable; one of: {', '.join(SCOPES)}")],
    name: Annotated[str, typer.Option(help="What the token is for")] = "integration",
) -> None:
    """Create a token; it is shown once.

    Example: ehrlich token create --name crm --scope subjects:write
    """
    with opened_instance(ctx) as instance, instance.db.write() as session:
        token, record = issue_api_token(session, instance.audit, name=name, scopes=scope,
                                        actor=ACTOR, now=now())
    console.print(f"Token {record.id} ({record.scopes}). Store it now; it is not shown again:")
    console.print(token, soft_wrap=True, highlight=False)


@app.command("list")
def list_tokens(ctx: typer.Context) -> None:
    """List tokens (never their secrets).

    Example: ehrlich token list
    """
    with opened_instance(ctx) as instance, instance.db.read() as session:
        tokens = list_api_tokens(session)
    table = Table("id", "name", "scopes", "created", "last used", "revoked")
    for t in tokens:
        table.add_row(t.id, t.name, t.scopes, t.created_at.isoformat(timespec="seconds"),
                      t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "",
                      t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "")
    console.print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, token_id: str) -> None:
    """Revoke a token at once.

    Example: ehrlich token revoke 3f9a1c0d2b4e5f60
    """
    with opened_instance(ctx) as instance, instance.db.write() as session:
        withdraw_api_token(session, instance.audit, token_id, actor=ACTOR, now=now())
        instance.api_tokens.revoke_in(session, token_id)  # tells the serving processes
    console.print(f"Token {token_id} revoked.")
