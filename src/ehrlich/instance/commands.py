"""Commands to type next, written as they work from where the user stands.

After `make run` the `ehrlich` program is `.venv/bin/ehrlich`, not on PATH, and the
instance is found only through `--data-dir`. A hint that says `ehrlich notice publish`
fails when pasted; so each hint names the program as it was started and the data
directory (or configuration file) in use: relative to the working directory on the
command line, absolute in the console, whose reader's shell may stand anywhere.
Texts written for both (the protection report's fixes, say) quote commands as
`` `ehrlich …` ``; `pasteable` puts the start of a working command line in their place.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path


def shown_path(path: Path | str, *, absolute: bool = False) -> str:
    """`path` relative to the working directory when it lies below it, else absolute."""
    full = Path(path).absolute()
    if absolute:
        return str(full)
    try:
        return str(full.relative_to(Path.cwd()))
    except ValueError:
        return str(full)


def _program(argv0: str, *, absolute: bool) -> list[str]:
    if Path(argv0).name == "__main__.py":  # started as `python -m ehrlich`
        return [shown_path(sys.executable, absolute=absolute), "-m", "ehrlich"]
    on_path = shutil.which(Path(argv0).name)
    if on_path is not None and os.path.samefile(on_path, shutil.which(argv0) or argv0):
        return [Path(argv0).name]
    return [shown_path(argv0, absolute=absolute)]


def ehrlich_command(data_dir: Path, config: Path | None = None, *,
                    argv0: str | None = None, absolute: bool = False) -> str:
    """The start of a command line that reaches the instance in `data_dir` (or configured
    by `config`) again, e.g. `.venv/bin/ehrlich --data-dir .ehrlich/data` (`absolute`:
    with absolute paths)."""
    words = _program(argv0 if argv0 is not None else sys.argv[0], absolute=absolute)
    if config is not None:
        words += ["--config", shown_path(config, absolute=absolute)]
    else:
        words += ["--data-dir", shown_path(data_dir, absolute=absolute)]
    return shlex.join(words)


QUOTED_COMMAND = re.compile(r"`ehrlich(?= )")
"""The start of a command quoted in a text: a backtick, the program's name, a space."""


def pasteable(text: str, command: str) -> str:
    """`text` with each quoted `` `ehrlich …` `` starting with `command` instead (from
    `ehrlich_command`), so that it works when pasted."""
    return QUOTED_COMMAND.sub(lambda _: f"`{command}", text)
