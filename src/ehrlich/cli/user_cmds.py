"""`ehrlich user add|list|disable|reset`: staff accounts from the command line.

Whoever runs these commands has the key file and the database, so they act
with owner rights; each change is audited as `cli`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ehrlich.auth.roles import Role
from ehrlich.cli.context import console, now, opened_instance

app = typer.Typer(help="Staff accounts for the console.", no_args_is_help=True)
ACTOR = "cli"


@app.command("add")
def add(
    ctx: typer.Context,
    email: str,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(r.value for r in Role)}")],
) -> None:
    """Create a staff account; its one-time password is shown once.

    Example: ehrlich user add --role support anna@example.org
    """
    with opened_instance(ctx) as instance, instance.db.write() as session:
        view, password = instance.staff.users.add(
            session, email=email, role=role, actor=ACTOR, actor_role=Role.OWNER, now=now())
    console.print(f"Staff user {view.email} ({view.role}) created.")
    console.print("One-time password (shown once; it must be changed at the first sign-in, "
                  f"within {instance.settings.initial_password_hours} hours):")
    console.print(password, soft_wrap=True, highlight=False)


@app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List staff accounts, their roles and whether they use a second factor.

    Example: ehrlich user list
    """
    with opened_instance(ctx) as instance, instance.db.read() as session:
        users = instance.staff.users.list_all(session, role=Role.OWNER)
    table = Table("email", "role", "second factor", "state", "created")
    for u in users:
        table.add_row(u.email, u.role, "yes" if u.second_factor else "no",
                      "disabled" if u.disabled else "active",
                      u.created_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command("disable")
def disable(ctx: typer.Context, email: str) -> None:
    """Disable an account and end its sessions at once.

    Example: ehrlich user disable anna@example.org
    """
    with opened_instance(ctx) as instance, instance.db.write() as session:
        instance.staff.users.disable(session, email, actor=ACTOR, actor_role=Role.OWNER,
                                     now=now())
    console.print(f"{email} is disabled; its sessions have ended.")


@app.command("reset")
def reset(
    ctx: typer.Context,
    email: str,
    second_factor: Annotated[bool, typer.Option(
        "--second-factor", help="Also remove the authenticator app and recovery codes")] = False,
) -> None:
    """Give an account a new one-time password (re-enables it; ends its sessions).

    Example: ehrlich user reset --second-factor anna@example.org
    """
    with opened_instance(ctx) as instance, instance.db.write() as session:
        password = instance.staff.users.reset(session, email, actor=ACTOR,
                                              actor_role=Role.OWNER, now=now(),
                                              second_factor=second_factor)
    console.print(f"New one-time password for {email} (shown once; valid for "
                  f"{instance.settings.initial_password_hours} hours):")
    console.print(password, soft_wrap=True, highlight=False)
