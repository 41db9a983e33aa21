"""Run the Alembic migrations programmatically (no alembic.ini needed).

Alembic is imported when a migration is run, not by every command that opens an
instance: whether the schema is current is read from the revision files' `revision`
and `down_revision` lines (loading Alembic and every migration module for that would
cost a server process about 40 MiB it never gives back)."""

from __future__ import annotations

import ast
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import inspect

from ehrlich.storage.database import Database

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "ehrlich.storage:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision of every branch."""
    from alembic import command

    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def is_initialised(db: Database) -> bool:
    return inspect(db.engine).has_table("alembic_version")


def current_revisions(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return set()
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        return {r[0] for r in rows}


@cache
def code_heads() -> frozenset[str]:
    """The newest revision of every branch the code has: those no other revision revises.
    Read once per process (the code does not change while it runs), from each revision
    file's module-level `revision` and `down_revision` assignments."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (files("ehrlich.storage") / "migrations" / "versions").iterdir():
        if not path.name.endswith(".py"):
            continue
        names = _assignments(path.read_text(encoding="utf-8"))
        revision, down = names.get("revision"), names.get("down_revision")
        if not isinstance(revision, str):
            continue  # not a revision file
        revisions.add(revision)
        if isinstance(down, str):
            revised.add(down)
        elif isinstance(down, tuple | list):  # a merge revises several
            revised.update(str(d) for d in down)
    return frozenset(revisions - revised)


def _assignments(source: str) -> dict[str, object]:
    """The literal values of a module's top-level `name = ...` / `name: T = ...` lines."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            target, value = node.target.id, node.value
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            target, value = node.targets[0].id, node.value
        else:
            continue
        try:
            found[target] = ast.literal_eval(value)
        except ValueError:
            continue
    return found


def pending(db: Database) -> bool:
    """True when the database lacks a revision that the code has."""
    return not code_heads() <= current_revisions(db)
