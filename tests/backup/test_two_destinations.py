"""Each backup goes to two destinations and is checked at each (local + SFTP, local + S3)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ehrlich.backup.errors import BackupDamaged
from ehrlich.backup.models import RUN_COMPLETE, BackupRun
from ehrlich.backup.stores import open_store
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.backup.conftest import add_subjects
from tests.conftest import NOW


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


def _both(instance: Instance, settings: Settings) -> None:
    backup = instance.backup
    backup.settings = settings
    add_subjects(instance, 3)
    made = backup.create(now=NOW)
    stores = [open_store(settings), open_store(settings, settings.backup_second_destination)]
    try:
        for store in stores:
            assert store.size(made.archive) == made.archive_size
            assert made.manifest.backup_id + ".manifest.json" in store.names()
        report = backup.verify(made.manifest.backup_id, now=NOW)
        assert all(store.url in report.detail for store in stores)
        with instance.db.read() as session:
            run = session.execute(select(BackupRun)).scalar_one()
        assert run.status == RUN_COMPLETE
        assert all(f"hash-checked at {store.url}" in run.detail for store in stores)
        # Damage the copy at the second destination only: verify names it.
        with stores[1].reader(made.archive) as fh:
            data = bytearray(fh.read())
        data[-5] ^= 1
        with stores[1].writer(made.archive) as out:
            out.write(bytes(data))
        with pytest.raises(BackupDamaged, match=f"at {stores[1].url}"):
            backup.verify(made.manifest.backup_id, now=NOW)
        # Retention applies at both destinations.
        newer = backup.create(now=NOW + timedelta(days=40))
        backup.settings = settings.model_copy(update={"backup_keep": (1, 0, 0)})
        assert backup.prune(now=NOW + timedelta(days=40)) == [made.manifest.backup_id]
        for store in stores:
            assert sorted(store.names()) == sorted(
                [newer.archive, newer.manifest.backup_id + ".manifest.json"])
    finally:
        for store in stores:
            store.close()


def test_local_and_sftp(instance: Instance, sshd: tuple[str, Path, Path]) -> None:
    url, key, known_hosts = sshd
    _both(instance, instance.settings.model_copy(update={
        "backup_second_destination": url, "backup_ssh_key": key,
        "backup_ssh_known_hosts": known_hosts}))


def test_local_and_s3(instance: Instance, s3_url: str) -> None:
    _both(instance, instance.settings.model_copy(update={"backup_second_destination": s3_url}))


def test_a_failing_second_destination_fails_the_run(instance: Instance, tmp_path: Path) -> None:
    """No run counts as complete unless both destinations hold the checked backup."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    instance.backup.settings = instance.settings.model_copy(update={
        "backup_second_destination": str(blocked)})
    with pytest.raises(OSError, match="not-a-directory"):
        instance.backup.create(now=NOW)
    with instance.db.read() as session:
        run = session.execute(select(BackupRun)).scalar_one()
    assert (run.status, run.finished_at is not None) == ("failed", True)
    assert open_store(instance.settings).names() == []
