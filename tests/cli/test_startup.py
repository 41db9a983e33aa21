"""The `ehrlich` command starts without the web framework: the domains name their routers
(`registry.add_router("package.module:router")`) and the web app imports them when built."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ehrlich.domains import collect
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
