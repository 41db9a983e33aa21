"""Run the Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from ehrlich.storage.database import Database


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "ehrlich.storage:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision of every branch."""
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


def pending(db: Database) -> bool:
    """True when the database lacks a revision that the code has."""
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(db.url)).get_heads())
    return not heads <= current_revisions(db)
