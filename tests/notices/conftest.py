"""Fixtures for the notices tests: the example notice and variants of it."""

from __future__ import annotations

import pytest

from ehrlich.notices.example import example_notice_text

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


def own_business(text: str) -> str:
    """The example as a real business would publish it: its own name and contacts (the
    example's are placeholders that the linter warns about)."""
    text = text.replace("name: Lindenhof Fahrradmanufaktur GmbH", "name: Lindenhof Räder GmbH", 1)
    return text.replace("@lindenhof-rad.example", "@lindenhof-raeder.de")


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not found")

