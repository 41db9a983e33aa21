"""Commands the console advises are written as they run on its server: the program and the
data directory `ehrlich serve` was started with, absolute paths (the reader's shell may
stand anywhere). Signed-out pages do not say where the instance is installed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.instance.commands import ehrlich_command, pasteable
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    open_session,
)
from tests.factories import Staff

SERVER = "/srv/ehrlich/venv/bin/ehrlich --data-dir /srv/ehrlich/data"


def test_the_protection_report_writes_its_commands_as_they_run_on_the_server(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock,  # noqa: F811
        ) -> None:
    state = console.app.state  # type: ignore[attr-defined]
    state.command = SERVER  # as `ehrlich serve` sets it
    try:  # the app serves the process's later tests too
        signed_out = console.get("/admin/login").text
        open_session(console, make_staff("owner"), clock.now)
        page = console.get("/admin").text
    finally:
        state.command = "ehrlich"
    assert f"`{SERVER} backup signing-key" in page  # a fix of a fresh instance's report
    assert "`ehrlich " not in page
    assert "/srv/ehrlich" not in signed_out


def test_the_console_command_names_absolute_paths() -> None:
    command = ehrlich_command(Path("relative/data"), argv0=".venv/bin/ehrlich", absolute=True)
    program, option, data_dir = command.split(" ")
    assert program.startswith("/")
    assert program.endswith("/.venv/bin/ehrlich")
    assert option == "--data-dir"
    assert data_dir.startswith("/")
    assert data_dir.endswith("/relative/data")


@given(st.text(alphabet=st.sampled_from("`ehrlic ab-\n"), max_size=60))
def test_only_quoted_commands_change(text: str) -> None:
    changed = pasteable(text, ".venv/bin/ehrlich --data-dir .ehrlich/data")
    assert "`ehrlich " not in changed
    assert changed.replace("`.venv/bin/ehrlich --data-dir .ehrlich/data ", "`ehrlich ") == text
    assert pasteable(text, "ehrlich") == text
