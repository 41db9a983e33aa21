"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ehrlich.storage import migrate
from ehrlich.storage.database import Database
from ehrlich.tables import Base


def _differences(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata)
                if not (isinstance(d, tuple) and d[0] == "remove_table"
                        and d[1].name == "alembic_version")]


def test_migrations_match_the_models(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(exist_ok=True)
    db = Database(database_url)
    try:
        migrate.upgrade(db)
        assert _differences(db) == []
        assert not migrate.pending(db)
        if db.is_sqlite:  # the audit sequence number is the rowid: no index of its own
            indexes = {i["name"] for i in inspect(db.engine).get_indexes("audit_entries")}
            with db.engine.connect() as conn:
                auto = conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE tbl_name = 'audit_entries' "
                    "AND name LIKE 'sqlite_autoindex%'").all()
            assert auto == []
            assert indexes == {"ix_audit_entries_at", "ix_audit_entries_target",
                               "ix_audit_entries_actor_seq", "ix_audit_entries_action_seq"}
    finally:
        db.dispose()


def test_the_heads_read_from_the_files_are_alembics() -> None:
    """The schema check reads the revision files itself (no Alembic in a server process);
    it must find exactly the heads Alembic's own script directory finds."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert migrate.code_heads() == frozenset(script.get_heads())
    assert len(migrate.code_heads()) > 1  # one branch per domain


def test_a_database_one_revision_behind_is_pending(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'behind.db'}")
    try:
        migrate.upgrade(db)
        newest = sorted(migrate.code_heads())[0]
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM alembic_version WHERE version_num = ?",
                                 (newest,))
        assert migrate.pending(db)
    finally:
        db.dispose()
