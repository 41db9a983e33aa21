"""Backup test helpers: subjects to back up and the two identities `init` wrote.

Backups of PostgreSQL need its client tools (pg_dump, pg_restore); without them the
PostgreSQL half skips (fails in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ehrlich.backup.keys import default_identity_path, recovery_identity_path
from ehrlich.backup.snapshot import pg_major, pg_tool
from ehrlich.domains import open_instance
from ehrlich.errors import ConfigurationError
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings, config_file_for, load_settings
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW, service_unavailable
from tests.instances import InstanceTemplates, PostgresServer


def add_subjects(instance: Instance, count: int, *, prefix: str = "person") -> list[str]:
    ids = []
    with instance.db.write() as session:
        for n in range(count):
            outcome = instance.subjects.create(
                session, SubjectInput(email=f"{prefix}{n}@example.org", name=f"Name {n}"),
                actor="test", now=NOW)
            ids.append(outcome.subject.id)
    return ids


def require_postgres_tools(instance: Instance) -> None:
    """Skip (fail in CI) unless pg_dump and pg_restore for the server's version are installed."""
    with instance.db.engine.connect() as conn:
        major = pg_major(conn)
    try:
        for tool in ("pg_dump", "pg_restore"):
            pg_tool(tool, major)
    except ConfigurationError as exc:
        service_unavailable("PostgreSQL backup", exc.message)


@pytest.fixture
def instance(settings: Settings, tmp_path: Path, instance_templates: InstanceTemplates
             ) -> Iterator[Instance]:
    """An instance opened from the configuration `init` wrote (with the backup recipients)."""
    instance_templates.install(settings)
    loaded = load_settings(config_file_for(settings.data_dir),
                           backup_destination=str(tmp_path / "backups"))
    opened = open_instance(loaded)
    try:
        if not opened.db.is_sqlite:
            require_postgres_tools(opened)
        yield opened
    finally:
        opened.close()


@pytest.fixture
def ops_identity(instance: Instance) -> Path:
    return default_identity_path(instance.settings.key_file)


@pytest.fixture
def recovery_identity(instance: Instance) -> Path:
    return recovery_identity_path(instance.settings.key_file)


@pytest.fixture
def empty_target(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> Iterator[str]:
    """A second, empty database of the same kind to restore into."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'ehrlich.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.new_name("ehrlich_restore_")
    yield server.create(name)
    server.discard(name)
