"""Run the Alembic migrations programmatically (no alembic.ini needed).

Alembic is imported when a migration is asked about, not by every command that opens an
instance's module."""

from __future__ import annotations

from functools import cache
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
    """The newest revision of every branch the code has; read (parsing every migration
    file) once per process, since the code does not change while it runs."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def pending(db: Database) -> bool:
    """True when the database lacks a revision that the code has."""
    return not code_heads() <= current_revisions(db)
