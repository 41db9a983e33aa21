"""An instance made before manifests were signed: it gets a signing key, and its earlier,
unsigned backups stay listed and can be verified or restored only when asked for."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from ehrlich.backup.errors import BackupDamaged, BackupUnsigned
from ehrlich.backup.keys import SIGNING_KEY
from ehrlich.backup.schemas import SIDECAR_SUFFIX
from ehrlich.cli.instance_cmds import _banner
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import config_file_for, load_settings
from tests.backup.conftest import add_subjects
from tests.conftest import NOW, Cli


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The upgrade does not depend on the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


@pytest.fixture
def old_backup(instance: Instance) -> str:
    """The instance as it was before signing, with one backup from then: no signing key, no
    backup_signing_public_key, and a manifest without a signature field (the format then)."""
    add_subjects(instance, 2)
    sidecar = instance.backup.create(now=NOW)
    backup_id = sidecar.manifest.backup_id
    path = Path(instance.settings.backup_destination) / (backup_id + SIDECAR_SUFFIX)
    unsigned = json.loads(path.read_bytes())
    del unsigned["signature"]
    path.write_text(json.dumps(unsigned, indent=2))
    (instance.settings.key_file.parent / SIGNING_KEY).unlink()
    config = config_file_for(instance.settings.data_dir)
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                              if not line.startswith("backup_signing_public_key")))
    return backup_id


def _run(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("--data-dir", "data", *args)


def _last_audit(instance: Instance, action: str) -> dict[str, object]:
    """The newest audit entry for `action`, read afresh (a restore replaced the database)."""
    fresh = open_instance(load_settings(config_file_for(instance.settings.data_dir)))
    try:
        with fresh.db.read() as session:
            detail = session.execute(text(
                "SELECT detail FROM audit_entries WHERE action = :a ORDER BY seq DESC LIMIT 1"),
                {"a": action}).scalar_one()
            assert fresh.audit.verify_chain(session).ok
    finally:
        fresh.close()
    loaded: dict[str, object] = json.loads(detail)
    return loaded


def test_signing_key_create_upgrades_an_instance_made_before_signing(
        instance: Instance, old_backup: str, cli: Cli, tmp_path: Path) -> None:
    key = instance.settings.key_file.parent / SIGNING_KEY
    config = config_file_for(instance.settings.data_dir)
    refused = _run(cli, "backup", "create")
    assert refused.returncode != 0
    assert "backup signing-key create" in refused.stderr.replace("\n", " ")
    doctor = _run(cli, "doctor")
    assert "Backup manifests are signed" in doctor.stdout
    checks = json.loads(_run(cli, "doctor", "--format", "json").stdout)["checks"]
    fix = next(c["fix"] for c in checks if c["id"] == "backup.signed")
    # the advice is the command as it works where the user stands, not a bare `ehrlich`
    assert fix.endswith("--data-dir data backup signing-key create`")
    assert "`ehrlich backup" not in fix
    old = open_instance(load_settings(config))
    try:
        banner = " ".join(_banner(old, "ehrlich --data-dir data", "http://127.0.0.1:8000"))
    finally:
        old.close()
    assert "`ehrlich --data-dir data backup signing-key create`" in banner

    made = _run(cli, "backup", "signing-key", "create")
    assert made.returncode == 0, made.stderr
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert not key.is_relative_to(instance.settings.data_dir)
    public = next(line.split(": ", 1)[1] for line in key.read_text().splitlines()
                  if line.startswith("# public key: "))
    assert f'backup_signing_public_key = "{public}"' in config.read_text().splitlines()
    before = (key.read_bytes(), config.read_bytes())
    again = _run(cli, "backup", "signing-key", "create")
    assert again.returncode != 0
    assert "refusing to replace" in again.stderr.replace("\n", " ")
    assert (key.read_bytes(), config.read_bytes()) == before

    signed = _run(cli, "backup", "create", "--verify")
    assert signed.returncode == 0, signed.stderr
    assert "signed manifest" in signed.stdout.replace("\n", " ")
    assert "pass" in _run(cli, "doctor").stdout.lower()


def test_an_unsigned_backup_is_listed_and_opened_only_with_allow_unsigned(
        instance: Instance, old_backup: str, cli: Cli, tmp_path: Path) -> None:
    assert _run(cli, "backup", "signing-key", "create").returncode == 0
    listing = _run(cli, "backup", "list")
    assert listing.returncode == 0, listing.stderr
    assert old_backup in listing.stdout
    assert "unsigned (made before signing)" in listing.stdout

    refused = _run(cli, "backup", "verify", old_backup)
    assert refused.returncode != 0
    assert "unsigned (made before signing)" in refused.stderr.replace("\n", " ")
    assert "--allow-unsigned" in refused.stderr.replace("\n", " ")
    verified = _run(cli, "backup", "verify", old_backup, "--allow-unsigned")
    assert verified.returncode == 0, verified.stderr
    assert "Warning" in verified.stderr
    assert "unsigned (made before signing)" in verified.stderr.replace("\n", " ")
    assert _last_audit(instance, "backup.verify") == {"ok": True, "unsigned": True}

    recovery = str(instance.settings.key_file.parent / "backup-recovery.agekey")
    restore = ("backup", "restore", old_backup, "--identity", recovery, "--force")
    refused = _run(cli, *restore)
    assert refused.returncode != 0
    assert "--allow-unsigned" in refused.stderr.replace("\n", " ")
    restored = _run(cli, *restore, "--allow-unsigned")
    assert restored.returncode == 0, restored.stderr
    assert "Warning" in restored.stderr
    detail = _last_audit(instance, "backup.restore")
    assert detail["unsigned"] is True


def test_a_manifest_that_claims_a_signature_is_checked_even_with_allow_unsigned(
        instance: Instance, old_backup: str, cli: Cli) -> None:
    """Only a manifest with no signature field at all counts as made before signing."""
    assert _run(cli, "backup", "signing-key", "create").returncode == 0
    upgraded = open_instance(load_settings(config_file_for(instance.settings.data_dir)))
    try:
        backup_id = upgraded.backup.create(now=NOW).manifest.backup_id
        path = Path(instance.settings.backup_destination) / (backup_id + SIDECAR_SUFFIX)
        for signature in ("", None, "AAAA"):
            sidecar = json.loads(path.read_bytes())
            sidecar["signature"] = signature
            path.write_text(json.dumps(sidecar))
            with pytest.raises(BackupDamaged, match="does not carry this instance's signature"):
                upgraded.backup.verify(backup_id, now=NOW, allow_unsigned=True)
        with pytest.raises(BackupUnsigned):
            upgraded.backup.verify(old_backup, now=NOW)
        listed = {b.backup_id: b.signed for b in upgraded.backup.list_backups()}
        assert listed == {old_backup: False}  # the one with a bad signature is not listed
    finally:
        upgraded.close()
    refused = _run(cli, "backup", "verify", backup_id, "--allow-unsigned")
    assert refused.returncode != 0
    assert "does not carry this instance's signature" in refused.stderr.replace("\n", " ")
