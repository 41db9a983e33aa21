"""Damaged backups fail loudly, naming what is wrong, and the failure is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyrage import x25519

from ehrlich.backup.errors import BackupDamaged, WrongIdentity
from ehrlich.backup.keys import default_signing_key_path, load_signing_key
from ehrlich.backup.models import BackupVerification
from ehrlich.backup.reading import sign_sidecar
from ehrlich.backup.schemas import Sidecar
from ehrlich.instance.service import Instance
from tests.backup.conftest import add_subjects
from tests.conftest import NOW


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The archive checks do not depend on the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


@pytest.fixture
def made(instance: Instance) -> Sidecar:
    add_subjects(instance, 3)
    return instance.backup.create(now=NOW)


def _archive(instance: Instance, sidecar: Sidecar) -> Path:
    return Path(instance.backup.store().url) / sidecar.archive


def _signed(instance: Instance, sidecar: Sidecar) -> str:
    """Signed with the instance's own key: the checks below the signature still hold."""
    key = load_signing_key(default_signing_key_path(instance.settings.key_file))
    return sign_sidecar(sidecar, key).model_dump_json()


def _outcomes(instance: Instance) -> list[tuple[bool, str]]:
    with instance.db.read() as session:
        rows = session.query(BackupVerification).order_by(BackupVerification.id).all()
        return [(r.ok, r.detail) for r in rows]


@pytest.mark.parametrize("where", [0, 40, 200, -20])
def test_flipped_byte(instance: Instance, made: Sidecar, where: int) -> None:
    path = _archive(instance, made)
    data = bytearray(path.read_bytes())
    data[where] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BackupDamaged, match="SHA-256 of the archive does not match"):
        instance.backup.verify(made.manifest.backup_id, now=NOW)
    assert [ok for ok, _ in _outcomes(instance)] == [False]


def test_truncated_archive(instance: Instance, made: Sidecar) -> None:
    path = _archive(instance, made)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(BackupDamaged, match="truncated"):
        instance.backup.verify(made.manifest.backup_id, now=NOW)
    assert [ok for ok, _ in _outcomes(instance)] == [False]


def test_truncated_archive_with_matching_manifest(instance: Instance, made: Sidecar) -> None:
    """Even if the manifest were rewritten (and signed) to match, age notices the cut."""
    path = _archive(instance, made)
    cut = path.read_bytes()[:-100]
    path.write_bytes(cut)
    import hashlib

    sidecar_path = path.parent / (made.manifest.backup_id + ".manifest.json")
    forged = made.model_copy(update={"archive_size": len(cut),
                                     "archive_sha256": hashlib.sha256(cut).hexdigest()})
    sidecar_path.write_text(_signed(instance, forged))
    with pytest.raises(BackupDamaged, match="cannot be decrypted"):
        instance.backup.verify(made.manifest.backup_id, now=NOW)


def test_wrong_identity(instance: Instance, made: Sidecar, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger.agekey"
    stranger.write_text(f"{x25519.Identity.generate()}\n")
    stranger.chmod(0o600)
    with pytest.raises(WrongIdentity, match="does not open it"):
        instance.backup.verify(made.manifest.backup_id, now=NOW, identity_file=stranger)
    assert [ok for ok, _ in _outcomes(instance)] == [False]


def test_missing_manifest(instance: Instance, made: Sidecar) -> None:
    path = _archive(instance, made)
    (path.parent / (made.manifest.backup_id + ".manifest.json")).unlink()
    with pytest.raises(BackupDamaged, match="has no manifest"):
        instance.backup.verify(made.manifest.backup_id, now=NOW)
    assert instance.backup.list_backups() == []  # not listed as complete


def test_manifest_counts_tampered(instance: Instance, made: Sidecar) -> None:
    path = _archive(instance, made)
    counts = {**made.manifest.row_counts, "subjects": 99}
    forged = made.model_copy(update={"manifest": made.manifest.model_copy(
        update={"row_counts": counts})})
    (path.parent / (made.manifest.backup_id + ".manifest.json")).write_text(
        _signed(instance, forged))
    with pytest.raises(BackupDamaged, match="disagree"):
        instance.backup.verify(made.manifest.backup_id, now=NOW)
