"""The example notice that `ehrlich init` writes into the data directory."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

EXAMPLE_FILE_NAME = "notice.yaml"


def example_notice_text() -> str:
    return (files("ehrlich.notices") / "example_notice.yaml").read_text(encoding="utf-8")


def write_example_notice(data_dir: Path) -> Path | None:
    """Write the example as DATA_DIR/notice.yaml unless a notice file is already there."""
    target = data_dir / EXAMPLE_FILE_NAME
    if target.exists():
        return None
    target.write_text(example_notice_text(), encoding="utf-8")
    return target
