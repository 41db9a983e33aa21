"""`ehrlich doctor` knows about backups: recent and verified, recovery key offline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ehrlich.backup import posture
from ehrlich.instance.service import Instance
from ehrlich.posture.schemas import PostureContext, Status
from tests.conftest import NOW


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


def test_backup_check_follows_what_happened(instance: Instance) -> None:
    check = posture.recent_verified_backup
    assert check.run(PostureContext(instance, NOW)).status == Status.WARN
    made = instance.backup.create(now=NOW)
    assert check.run(PostureContext(instance, NOW)).status == Status.WARN
    instance.backup.verify(made.manifest.backup_id, now=NOW)
    assert check.run(PostureContext(instance, NOW)).status == Status.PASS
    stale = check.run(PostureContext(instance, NOW + timedelta(days=3)))
    assert stale.status == Status.FAIL
    assert "newest backup is from" in stale.detail


def test_recovery_key_check(instance: Instance, recovery_identity: Path) -> None:
    check = posture.recovery_key_offline
    found = check.run(PostureContext(instance, NOW))
    assert found.status == Status.WARN
    assert str(recovery_identity) in found.detail
    recovery_identity.unlink()
    assert check.run(PostureContext(instance, NOW)).status == Status.PASS


@pytest.mark.parametrize(("second", "status"), [
    ("", Status.WARN), ("{tmp}/elsewhere", Status.WARN),
    ("sftp://backup@offsite.example/srv/ehrlich", Status.PASS),
    ("s3://bucket/ehrlich?endpoint=https://s3.example", Status.PASS)])
def test_two_destinations_one_off_site(instance: Instance, tmp_path: Path, second: str,
                                       status: Status) -> None:
    settings = instance.settings.model_copy(update={
        "backup_second_destination": second.format(tmp=tmp_path)})
    instance.backup.settings = settings
    found = posture.two_destinations.run(PostureContext(instance, NOW))
    assert found.status == status
