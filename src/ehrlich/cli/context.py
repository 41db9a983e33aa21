"""What every command needs: the settings (read once) and the opened instance."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from ehrlich.domains import DOMAINS, Install, open_instance
from ehrlich.instance.commands import ehrlich_command
from ehrlich.instance.service import Instance
from ehrlich.settings import DEFAULT_DATA_DIR, Settings, load_settings

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliState:
    config: Path | None = None
    data_dir: Path | None = None
    domains: Sequence[Install] = DOMAINS

    def command(self) -> str:
        """The start of a command line that reaches the same instance again, the program
        and the options as this one was started (`instance.commands.ehrlich_command`)."""
        return ehrlich_command(self.data_dir or DEFAULT_DATA_DIR, self.config)

    @contextmanager
    def opened(self) -> Iterator[Instance]:
        """The instance for a domain's command (`ehrlich.registry.command_instance`)."""
        instance = open_instance(load_settings(self.config, data_dir=self.data_dir),
                                 domains=self.domains)
        try:
            yield instance
        finally:
            instance.close()


def settings_from(ctx: typer.Context, **overrides: object) -> Settings:
    state: CliState = ctx.obj or CliState()
    overrides.setdefault("data_dir", state.data_dir)
    if overrides["data_dir"] is None:
        overrides["data_dir"] = state.data_dir
    return load_settings(state.config, **overrides)


def domains_from(ctx: typer.Context) -> Sequence[Install]:
    state: CliState = ctx.obj or CliState()
    return state.domains


def instance_from(ctx: typer.Context) -> Instance:
    return open_instance(settings_from(ctx), domains=domains_from(ctx))


@contextmanager
def opened_instance(ctx: typer.Context) -> Iterator[Instance]:
    """The instance for one command, closed when the command is done with it."""
    instance = instance_from(ctx)
    try:
        yield instance
    finally:
        instance.close()


def now() -> datetime:
    return datetime.now(UTC)
