"""Each test's instance, copied from the run's template, is a whole instance of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from ehrlich.backup.keys import OPERATIONS_IDENTITY
from ehrlich.domains import open_instance
from ehrlich.settings import Settings, load_settings
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW
from tests.instances import InstanceTemplates
from tests.postgres import PostgresServer


def _settings(root: Path, database_kind: str, request: pytest.FixtureRequest) -> Settings:
    """Settings for a new instance under `root`; its database does not exist yet."""
    url = f"sqlite:///{root / 'db' / 'own.db'}"  # outside the data directory on purpose
    if database_kind == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = server.new_name()
        request.addfinalizer(lambda: server.discard(name))
        url = server.url(name)
    return Settings(data_dir=root / "data", key_file=root / "keys" / "own.key",
                    database_url=url)


def test_a_copy_names_its_own_paths_and_opens_with_its_key(
        database_kind: str, tmp_path: Path, request: pytest.FixtureRequest,
        instance_templates: InstanceTemplates) -> None:
    wanted = _settings(tmp_path, database_kind, request)
    config = instance_templates.install(wanted)
    loaded = load_settings(config)
    assert loaded.data_dir == wanted.data_dir.absolute()
    assert loaded.key_file == wanted.key_file.absolute()
    assert loaded.database_url == wanted.database_url
    assert loaded.backup_identity == wanted.key_file.parent / OPERATIONS_IDENTITY
    assert str(instance_templates.root) not in config.read_text()
    for private in (wanted.key_file, wanted.key_file.parent / OPERATIONS_IDENTITY, config):
        assert private.stat().st_mode & 0o777 == 0o600, private
    assert wanted.data_dir.stat().st_mode & 0o777 == 0o700
    assert (wanted.data_dir / "notice.yaml").exists()
    open_instance(loaded).close()  # the key check in the copied database holds


def test_copies_share_nothing_but_the_template(
        database_kind: str, tmp_path: Path, request: pytest.FixtureRequest,
        instance_templates: InstanceTemplates) -> None:
    first, second = (_settings(tmp_path / n, database_kind, request) for n in ("a", "b"))
    for settings in (first, second):
        instance_templates.install(settings)
    instance = open_instance(first)
    try:
        with instance.db.write() as session:
            kept = instance.subjects.create(session, SubjectInput(email="ada@example.org"),
                                            actor="test", now=NOW)
            erased = instance.subjects.create(session, SubjectInput(email="bob@example.org"),
                                              actor="test", now=NOW)
        instance.subjects.erase(instance.db, erased.subject.id, actor="test", now=NOW)
        with instance.db.read() as session:
            assert instance.subjects.count_by_state(session) == {"active": 1, "erased": 1}
    finally:
        instance.close()
    assert kept.created
    assert (first.data_dir / "ledger.sqlite3").exists()
    assert not (second.data_dir / "ledger.sqlite3").exists()
    other = open_instance(second)
    try:
        with other.db.read() as session:
            assert other.subjects.count_by_state(session) == {}
    finally:
        other.close()
