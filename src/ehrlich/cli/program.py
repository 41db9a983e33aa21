"""The `ehrlich` program's entry: the command line loaded with the garbage collector paused.

Loading the command line makes a few hundred thousand long-lived objects (the modules,
SQLAlchemy's and pydantic's models of every domain) and no garbage, yet the collector
walked them again and again on the way: about a sixth of the program's start-up time.
It is paused while they load, and what they left is then frozen (`gc.freeze`): moved
out of the collector's way for the life of the process, so a long-running `serve` or
`worker` does not walk them in every full collection either. Garbage made after the
start is collected as usual.
"""

from __future__ import annotations

import gc


def keep_loaded() -> None:
    """Freeze what is alive now, the loaded modules and models, for the life of the process.

    The program does this once it has loaded; an in-process benchmark calls it after
    its imports, so that what it measures collects garbage as the program would."""
    gc.freeze()


def run() -> None:
    """The `ehrlich` program (`ehrlich.cli.main.run`), started as described above."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        from ehrlich.cli.main import run as main
    finally:
        keep_loaded()
        if collecting:
            gc.enable()
    main()
