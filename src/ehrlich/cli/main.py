"""The `ehrlich` command. Domain errors become messages and exit codes here only."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from ehrlich import errors
from ehrlich.cli import (
    audit_cmds,
    backup_cmds,
    counts_cmds,
    doctor_cmds,
    import_cmds,
    instance_cmds,
    keys_cmds,
    mail_cmds,
    notice_cmds,
    token_cmds,
    user_cmds,
)
from ehrlich.cli.context import CliState, err_console
from ehrlich.domains import collect
from ehrlich.instance.commands import pasteable

app = typer.Typer(help="ehrlich: collect and use customer data honestly.",
                  no_args_is_help=True, pretty_exceptions_enable=False,
                  add_completion=False)

EXIT_CODES: list[tuple[type[errors.EhrlichError], int]] = [
    (errors.InvalidInput, 2),
    (errors.ConfigurationError, 3),
    (errors.IntegrityFailure, 4),
    (errors.NotFound, 5),
    (errors.Conflict, 6),
]


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(
        help="Instance configuration file (default: DATA_DIR/ehrlich.toml)",
        envvar="EHRLICH_CONFIG")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        help="Instance data directory", envvar="EHRLICH_DATA_DIR")] = None,
) -> None:
    # a caller may have handed a state in (`run`; a test that chose the domains): fill it
    state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
    state.config, state.data_dir = config, data_dir
    ctx.obj = state


app.command()(instance_cmds.init)
app.command()(instance_cmds.migrate)
app.command()(instance_cmds.serve)
app.command()(instance_cmds.worker)
app.add_typer(token_cmds.app, name="token")
app.add_typer(keys_cmds.app, name="keys")
app.add_typer(audit_cmds.app, name="audit")
app.add_typer(notice_cmds.app, name="notice")
app.add_typer(user_cmds.app, name="user")
app.command()(doctor_cmds.doctor)
app.add_typer(backup_cmds.app, name="backup")
app.add_typer(mail_cmds.app, name="mail")
app.add_typer(counts_cmds.app, name="counts")
app.command(name="import")(import_cmds.import_file)
for _name, _group in collect().cli_groups:  # command groups a domain ships itself
    app.add_typer(_group, name=_name)


def exit_code_for(exc: errors.EhrlichError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


def run(args: Sequence[str] | None = None) -> None:
    """The `ehrlich` program (`args`: the command line after the program's name, default
    `sys.argv`); ends with `SystemExit` and the exit code, as the process does."""
    from sqlalchemy.exc import OperationalError  # loaded by the time a database is reached

    state = CliState()
    try:
        app(args=None if args is None else list(args), obj=state)
    except errors.EhrlichError as exc:
        # a command the message advises, written as it works where the user stands
        err_console.print(f"[red]error:[/red] {pasteable(exc.message, state.command())}",
                          highlight=False)
        sys.exit(exit_code_for(exc))
    except OperationalError as exc:
        err_console.print(f"[red]error:[/red] the database cannot be reached: {exc.orig}; "
                          "check EHRLICH_DATABASE_URL and that the server runs", highlight=False)
        sys.exit(3)
