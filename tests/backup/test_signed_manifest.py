"""Someone with write access to the destination cannot forge or swap backups unnoticed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ehrlich.backup.errors import BackupDamaged
from ehrlich.backup.restore import restore_backup
from ehrlich.backup.schemas import Sidecar
from ehrlich.crypto import SigningKey
from ehrlich.domains import build_core
from ehrlich.instance.service import Instance
from tests.backup.conftest import add_subjects
from tests.conftest import NOW


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The checks do not depend on the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


@pytest.fixture
def two(instance: Instance) -> tuple[Sidecar, Sidecar]:
    add_subjects(instance, 2, prefix="early")
    first = instance.backup.create(now=NOW)
    add_subjects(instance, 3, prefix="late")
    return first, instance.backup.create(now=NOW)


def _swap(directory: Path, a: str, b: str) -> None:
    for suffix in (".tar.zst.age", ".manifest.json"):
        shutil.move(directory / f"{a}{suffix}", directory / "swap")
        shutil.move(directory / f"{b}{suffix}", directory / f"{a}{suffix}")
        shutil.move(directory / "swap", directory / f"{b}{suffix}")


def test_the_manifest_is_signed(instance: Instance, two: tuple[Sidecar, Sidecar]) -> None:
    raw = json.loads((Path(instance.backup.store().url)
                      / f"{two[0].manifest.backup_id}.manifest.json").read_bytes())
    assert len(raw["signature"]) == 88  # 64 bytes, base64


def test_swapped_backups_are_detected(instance: Instance, two: tuple[Sidecar, Sidecar]
                                      ) -> None:
    """Renaming the older backup's files to the newer's name (and back) is caught."""
    first, second = (s.manifest.backup_id for s in two)
    _swap(Path(instance.backup.store().url), first, second)
    with pytest.raises(BackupDamaged, match="swapped or renamed"):
        instance.backup.verify(second, now=NOW)
    with pytest.raises(BackupDamaged, match="swapped or renamed"):
        restore_backup(build_core(instance.settings), second,
                       identity_file=instance.backup.identity_file, target_url=None,
                       force=True, now=NOW)


def test_swapped_archive_alone_is_detected(instance: Instance,
                                           two: tuple[Sidecar, Sidecar]) -> None:
    directory = Path(instance.backup.store().url)
    first, second = (s.archive for s in two)
    shutil.move(directory / first, directory / "swap")
    shutil.move(directory / second, directory / first)
    shutil.move(directory / "swap", directory / second)
    with pytest.raises(BackupDamaged, match=r"truncated or altered|SHA-256"):
        instance.backup.verify(two[1].manifest.backup_id, now=NOW)


def test_forged_manifest_is_detected(instance: Instance, two: tuple[Sidecar, Sidecar]
                                     ) -> None:
    """Edited row counts, re-signed with another key, do not pass for this instance's."""
    sidecar = two[1]
    forged = sidecar.model_copy(update={"manifest": sidecar.manifest.model_copy(
        update={"row_counts": {**sidecar.manifest.row_counts, "subjects": 1}})})
    from ehrlich.backup.reading import sign_sidecar

    path = Path(instance.backup.store().url) / f"{sidecar.manifest.backup_id}.manifest.json"
    path.write_text(sign_sidecar(forged, SigningKey.generate()).model_dump_json())
    with pytest.raises(BackupDamaged, match="does not carry this instance's signature"):
        instance.backup.verify(sidecar.manifest.backup_id, now=NOW)
    with pytest.raises(BackupDamaged, match="does not carry this instance's signature"):
        restore_backup(build_core(instance.settings), sidecar.manifest.backup_id,
                       identity_file=instance.backup.identity_file, target_url=None,
                       force=True, now=NOW)
    path.write_text(forged.model_copy(update={"signature": ""}).model_dump_json())
    with pytest.raises(BackupDamaged, match="does not carry this instance's signature"):
        instance.backup.verify(sidecar.manifest.backup_id, now=NOW)
    assert [b.backup_id for b in instance.backup.list_backups()] == [two[0].manifest.backup_id]


def test_a_backup_made_elsewhere_is_refused(instance: Instance, tmp_path: Path) -> None:
    """The public recipients are enough to make an archive that decrypts; not a signed one."""
    from ehrlich.domains import open_instance
    from ehrlich.instance.service import init_instance
    from ehrlich.settings import Settings, config_file_for, load_settings

    other = Settings(data_dir=tmp_path / "other", key_file=tmp_path / "other-keys" / "k.key")
    init_instance(other, now=NOW)
    attacker = open_instance(load_settings(
        config_file_for(other.data_dir), backup_destination=instance.settings.backup_destination,
        backup_recipients=instance.settings.backup_recipients))
    try:
        forged = attacker.backup.create(now=NOW).manifest.backup_id
    finally:
        attacker.close()
    with pytest.raises(BackupDamaged, match="does not carry this instance's signature"):
        instance.backup.verify(forged, now=NOW)
    assert instance.backup.list_backups() == []
