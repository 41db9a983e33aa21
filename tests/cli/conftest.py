"""Run the real `ehrlich` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]


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
