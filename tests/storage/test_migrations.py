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
