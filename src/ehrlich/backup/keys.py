"""The two age keypairs behind every backup, and the key that signs their manifests.

`ehrlich init` writes both identities beside the key file (outside the data
directory, mode 0600) in `age-keygen` format, so `age -d -i FILE` reads them.
Only the public recipients go into the configuration: they are all a backup
needs. The recovery identity is meant to leave the machine at once.

The Ed25519 signing key (beside them, 0600) signs every backup's manifest;
its public half is in the configuration, so `verify` and `restore` detect a
manifest that was edited, forged or swapped at the destination.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ehrlich.crypto import SigningKey
from ehrlich.crypto.signing import parse_public_key
from ehrlich.errors import ConfigurationError
from ehrlich.settings import Settings

# age is imported where a key is made or read: a web process does neither at start.
if TYPE_CHECKING:
    from pyrage import x25519

OPERATIONS_IDENTITY = "backup-operations.agekey"
RECOVERY_IDENTITY = "backup-recovery.agekey"
SIGNING_KEY = "backup-signing.key"


@dataclass(frozen=True)
class BackupKeys:
    operations_recipient: str
    recovery_recipient: str
    operations_identity: Path
    recovery_identity: Path
    signing_public_key: str = ""

    def config_lines(self) -> list[str]:
        """The lines `ehrlich init` adds to the instance configuration."""
        # JSON strings and arrays are valid TOML basic strings and arrays.
        recipients = json.dumps([self.operations_recipient, self.recovery_recipient])
        return [f"backup_recipients = {recipients}",
                f"backup_identity = {json.dumps(str(self.operations_identity))}",
                f"backup_signing_public_key = {json.dumps(self.signing_public_key)}"]


def _write_identity(path: Path, label: str) -> str:
    from pyrage import x25519

    identity = x25519.Identity.generate()
    recipient = str(identity.to_public())
    created = datetime.now(UTC).isoformat(timespec="seconds")
    _write_secret(path, f"# ehrlich backup {label} identity\n# created: {created}\n"
                        f"# public key: {recipient}\n{identity}\n")
    return recipient


def _write_signing_key(path: Path) -> str:
    key = SigningKey.generate()
    created = datetime.now(UTC).isoformat(timespec="seconds")
    _write_secret(path, f"# ehrlich backup manifest signing key (Ed25519)\n"
                        f"# created: {created}\n# public key: {key.public_key}\n"
                        f"{key.to_text()}\n")
    return key.public_key


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigurationError(f"{path} already exists; refusing to overwrite it") from exc
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def create_backup_keys(key_dir: Path) -> BackupKeys:
    """Generate both keypairs and the signing key in `key_dir` (beside the key file)."""
    ops, rec = key_dir / OPERATIONS_IDENTITY, key_dir / RECOVERY_IDENTITY
    return BackupKeys(_write_identity(ops, "operations"), _write_identity(rec, "recovery"),
                      ops, rec, _write_signing_key(key_dir / SIGNING_KEY))


def _read_private(path: Path, what: str) -> list[str]:
    try:
        mode = path.stat().st_mode
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigurationError(f"{what} {path} cannot be read: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"{what} {path} is readable by other users; "
                                 f"run `chmod 600 {path}`")
    return lines


def load_signing_key(path: Path) -> SigningKey:
    """Read the manifest signing key; refuse one that others may read."""
    text = "\n".join(_read_private(path, "backup signing key"))
    return SigningKey.from_text(text, source=str(path))


def signing_public_key(value: str) -> bytes:
    """The configured public key that every manifest's signature must match."""
    if not value.strip():
        raise ConfigurationError(
            "backup_signing_public_key is not set; run `ehrlich backup signing-key create` "
            f"(or copy the `# public key:` line of {SIGNING_KEY} beside the key file)")
    return parse_public_key(value.strip(), setting="backup_signing_public_key")


def default_signing_key_path(key_file: Path) -> Path:
    return key_file.parent / SIGNING_KEY


def signing_key_path(settings: Settings) -> Path:
    return settings.backup_signing_key or default_signing_key_path(settings.key_file)


def add_signing_key(settings: Settings, config_file: Path) -> tuple[Path, str]:
    """Give an instance made before signing its key: write it (0600, beside the backup
    identities, outside the data directory) and its public half into `config_file`.
    Refuses to replace a key: backups signed with it would no longer verify."""
    path = signing_key_path(settings)
    if settings.backup_signing_public_key.strip():
        raise ConfigurationError("backup_signing_public_key is already set; refusing to "
                                 "replace the key that signs this instance's backups")
    if path.absolute().is_relative_to(settings.data_dir.absolute()):
        raise ConfigurationError(f"the backup signing key {path} would be inside the data "
                                 "directory; set backup_signing_key to a path outside it")
    public_key = _write_signing_key(path)  # refuses an existing file
    text = config_file.read_text() if config_file.exists() else ""
    line = f"backup_signing_public_key = {json.dumps(public_key)}\n"
    with config_file.open("a") as fh:
        fh.write(("" if text.endswith("\n") or not text else "\n") + line)
        fh.flush()
        os.fsync(fh.fileno())
    return path, public_key


def load_identity(path: Path) -> x25519.Identity:
    """Read an age identity file; refuse one that others may read."""
    from pyrage import x25519

    lines = _read_private(path, "backup identity")
    secrets = [line.strip() for line in lines if line.strip().startswith("AGE-SECRET-KEY-")]
    if len(secrets) != 1:
        raise ConfigurationError(
            f"{path} holds no age identity (the secret key line that age-keygen writes)")
    try:
        return x25519.Identity.from_str(secrets[0])
    except Exception as exc:  # pyrage raises its own IdentityError
        raise ConfigurationError(f"{path} holds a malformed age identity") from exc


def parse_recipients(values: list[str]) -> list[x25519.Recipient]:
    from pyrage import x25519

    if not values:
        raise ConfigurationError(
            "no backup recipients are configured; set backup_recipients in ehrlich.toml "
            "(`ehrlich init` writes them) or EHRLICH_BACKUP_RECIPIENTS")
    recipients = []
    for value in values:
        try:
            recipients.append(x25519.Recipient.from_str(value.strip()))
        except Exception as exc:  # pyrage raises its own RecipientError
            raise ConfigurationError(f"backup recipient {value!r} is not an age public key "
                                     "(age1...)") from exc
    return recipients


def default_identity_path(key_file: Path) -> Path:
    return key_file.parent / OPERATIONS_IDENTITY


def recovery_identity_path(key_file: Path) -> Path:
    return key_file.parent / RECOVERY_IDENTITY


def backup_keys_advice(key_file: Path) -> str:
    """What `ehrlich init` tells the owner about the two backup identities."""
    return (f"[bold]Backups are encrypted to two keys.[/bold] Move the recovery identity "
            f"{recovery_identity_path(key_file)} off this machine now (offline, e.g. printed or "
            f"on a USB key in a safe) and delete it here; the operations identity "
            f"{default_identity_path(key_file)} stays for scheduled verification.")
