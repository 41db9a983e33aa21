"""The `ehrlich` command starts without the web framework: the domains name their routers
(`registry.add_router("package.module:router")`) and the web app imports them when built."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ehrlich.domains import collect
from ehrlich.instance.service import Instance
from ehrlich.registry import load_router

WEB_ONLY = ("fastapi", "starlette", "uvicorn", "alembic", "segno")


def test_the_command_line_imports_no_web_framework() -> None:
    """A regression (a domain's install importing its routes, a module-level `from fastapi
    import ...` on the command's path) makes every command start slower; this names it."""
    probe = ("import sys; import ehrlich.cli.main; "
             f"print(' '.join(m for m in {WEB_ONLY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "", f"imported by the command line: {result.stdout}"


def test_the_program_loads_with_the_collector_paused_then_collects_again() -> None:
    """`ehrlich.cli.program.run` (the installed `ehrlich` and `python -m ehrlich`) loads the
    command line with the garbage collector off, freezes what loading left, and runs the
    command with the collector on again: a command that made cyclic garbage for its whole
    run would otherwise grow without bound."""
    probe = (
        "import gc, sys\n"
        "import ehrlich.cli.main as main\n"
        "seen = []\n"
        "main.run = lambda: seen.append((gc.isenabled(), gc.get_freeze_count()))\n"
        "from ehrlich.cli.program import run\n"
        "gc.collect(); gc.unfreeze(); loaded = gc.get_freeze_count()\n"
        "run()\n"
        "print(loaded, *seen[0])\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=120)
    loaded, enabled, frozen = result.stdout.split()
    assert loaded == "0"
    assert enabled == "True"
    assert int(frozen) > 100_000  # the command line's modules, classes and functions


def test_every_named_router_loads() -> None:
    contributions = collect()
    names = [r for r in (*contributions.routers, *contributions.console_routers)
             if isinstance(r, str)]
    assert names, "the domains name their routers"
    for name in names:
        assert load_router(name).routes, name


def test_a_badly_named_router_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"package\.module:attribute"):
        load_router("ehrlich.audit.routes")
    with pytest.raises(ModuleNotFoundError):
        load_router("ehrlich.nowhere:router")


# Only the backup itself needs age, zstd and tar: a web process that never makes one
# should not carry them (bench/RESULTS.md, serve_memory).
BACKUP_ONLY = ("pyrage", "zstandard", "tarfile")
# Nor does a SQLite instance, the default, carry the PostgreSQL dialect and driver
# (`storage.upsert` builds each dialect's statements on first use).
POSTGRES_ONLY = ("sqlalchemy.dialects.postgresql", "psycopg")


def test_the_web_app_starts_without_the_backup_machinery(instance: Instance) -> None:
    """Opening an instance and building its web app, as `ehrlich serve` does, loads no
    module only a backup or restore uses, and on SQLite none only PostgreSQL needs; a
    top-level import of one names itself here."""
    settings = instance.settings
    unwanted = BACKUP_ONLY + (POSTGRES_ONLY if instance.db.is_sqlite else ())
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ehrlich.app import create_app\n"
        "from ehrlich.domains import open_instance\n"
        "from ehrlich.settings import Settings\n"
        f"settings = Settings(data_dir=Path({str(settings.data_dir)!r}), "
        f"key_file=Path({str(settings.key_file)!r}), "
        f"database_url={settings.database_url!r}, base_url='http://testserver')\n"
        "instance = open_instance(settings)\n"
        "create_app(instance)\n"
        "instance.close()\n"
        f"print(' '.join(m for m in {unwanted!r} if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=False, timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"imported by the web app: {result.stdout}"
