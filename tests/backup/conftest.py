"""Backup test helpers: subjects to back up and the two identities `init` wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ehrlich.backup.keys import default_identity_path, recovery_identity_path
from ehrlich.instance.service import Instance, init_instance, open_instance
from ehrlich.settings import Settings, config_file_for, load_settings
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW


def add_subjects(instance: Instance, count: int, *, prefix: str = "person") -> list[str]:
    ids = []
    with instance.db.write() as session:
        for n in range(count):
            outcome = instance.subjects.create(
                session, SubjectInput(email=f"{prefix}{n}@example.org", name=f"Name {n}"),
                actor="test", now=NOW)
            ids.append(outcome.subject.id)
    return ids


@pytest.fixture
def instance(settings: Settings, tmp_path: Path) -> Iterator[Instance]:
    """An instance opened from the configuration `init` wrote (with the backup recipients)."""
    init_instance(settings, now=NOW)
    loaded = load_settings(config_file_for(settings.data_dir),
                           backup_destination=str(tmp_path / "backups"))
    opened = open_instance(loaded)
    yield opened
    opened.close()


@pytest.fixture
def ops_identity(instance: Instance) -> Path:
    return default_identity_path(instance.settings.key_file)


@pytest.fixture
def recovery_identity(instance: Instance) -> Path:
    return recovery_identity_path(instance.settings.key_file)
