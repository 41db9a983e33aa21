"""Commands to type next, written as they work from where the user stands.

After `make run` the `ehrlich` program is `.venv/bin/ehrlich`, not on PATH, and the
instance is found only through `--data-dir`. A hint that says `ehrlich notice publish`
fails when pasted; so each hint names the program as it was started (relative to the
working directory) and the data directory (or configuration file) in use.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from ehrlich.settings import Settings


def shown_path(path: Path | str) -> str:
    """`path` relative to the working directory when it lies below it, else absolute."""
    absolute = Path(path).absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _program(argv0: str) -> list[str]:
    if Path(argv0).name == "__main__.py":  # started as `python -m ehrlich`
        return [shown_path(sys.executable), "-m", "ehrlich"]
    on_path = shutil.which(Path(argv0).name)
    if on_path is not None and os.path.samefile(on_path, shutil.which(argv0) or argv0):
        return [Path(argv0).name]
    return [shown_path(argv0)]


def ehrlich_command(settings: Settings, config: Path | None = None, *,
                    argv0: str | None = None) -> str:
    """The start of a command line that reaches this instance again, e.g.
    `.venv/bin/ehrlich --data-dir .ehrlich/data`."""
    words = _program(argv0 if argv0 is not None else sys.argv[0])
    if config is not None:
        words += ["--config", shown_path(config)]
    else:
        words += ["--data-dir", shown_path(settings.data_dir)]
    return shlex.join(words)
