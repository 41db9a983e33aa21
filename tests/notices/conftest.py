"""Fixtures for the notices tests: the example notice, variants of it, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ehrlich.notices.example import example_notice_text

Cli = Callable[..., subprocess.CompletedProcess[str]]
REPORT: list[str] = []
"""Lines the corpus test wants printed in the terminal summary."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("notice linter: wording corpus")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture
def example() -> str:
    return example_notice_text()


def variant(text: str, *replacements: tuple[str, str]) -> str:
    """The text with each (old, new) replaced exactly once; fails if `old` is absent."""
    for old, new in replacements:
        assert text.count(old) >= 1, f"{old!r} not in the notice"
        text = text.replace(old, new, 1)
    return text


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not found")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
        full_env.update({"COLUMNS": "200", "NO_COLOR": "1"})
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "ehrlich", *args], cwd=tmp_path,
                              env=full_env, capture_output=True, text=True, timeout=timeout,
                              check=False)

    return run
