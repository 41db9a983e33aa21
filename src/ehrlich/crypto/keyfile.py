"""The key file: versioned key-encryption keys plus the instance's other secrets.

It lives outside the data directory (and outside database backups), mode 0600.
Format (JSON):

    {"format": "ehrlich-keyfile/1", "active": 2,
     "kek": {"1": "<base64>", "2": "<base64>"},
     "index_key": "<base64>", "audit_key": "<base64>", "token_key": "<base64>"}

The KEK versions rotate; the other three never do, because blind indexes,
the audit chain and issued links depend on them. When the KEKs live in a
PKCS#11 token, the file holds only the other three (no "active", no "kek").
"""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ehrlich.crypto import _primitives as p
from ehrlich.errors import ConfigurationError

FORMAT = "ehrlich-keyfile/1"


@dataclass(frozen=True)
class KeyMaterial:
    """The key file's contents; `active` is 0 and `keks` empty when the KEKs are elsewhere."""

    active: int
    keks: dict[int, bytes]
    index_key: bytes
    audit_key: bytes
    token_key: bytes = field(repr=False)

    def __repr__(self) -> str:  # never print key bytes
        return f"KeyMaterial(active={self.active}, versions={sorted(self.keks)})"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: object, name: str, path: Path) -> bytes:
    try:
        raw = base64.b64decode(str(value), validate=True)
    except ValueError as exc:
        raise ConfigurationError(f"key file {path}: {name} is not valid base64") from exc
    if len(raw) != p.KEY_BYTES:
        raise ConfigurationError(f"key file {path}: {name} must be {p.KEY_BYTES} bytes")
    return raw


def check_permissions(path: Path) -> None:
    """Refuse a key file that others than its owner can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"key file {path} is missing: restore it from your key backup, or set "
            "EHRLICH_KEY_FILE to where it is (a new instance is made with `ehrlich init`)"
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"key file {path} is readable by other users (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}`"
        )


def read_key_file(path: Path, *, keks: bool = True) -> KeyMaterial:
    """Read and check the key file; `keks=False` for an instance whose KEKs are on a
    token (the file then holds only the index, audit and token keys)."""
    check_permissions(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"key file {path} cannot be read: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigurationError(f"key file {path} is not an ehrlich key file ({FORMAT})")
    if keks and "kek" not in doc:
        raise ConfigurationError(
            f"key file {path} holds no KEKs: this instance keeps them in a PKCS#11 token; "
            'set key_provider = "pkcs11" (EHRLICH_KEY_PROVIDER) and the token settings')
    try:
        versions = ({int(v): _unb64(k, f"kek {v}", path) for v, k in dict(doc["kek"]).items()}
                    if keks else {})
        active = int(doc["active"]) if keks else 0
        material = KeyMaterial(
            active=active,
            keks=versions,
            index_key=_unb64(doc["index_key"], "index_key", path),
            audit_key=_unb64(doc["audit_key"], "audit_key", path),
            token_key=_unb64(doc["token_key"], "token_key", path),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"key file {path} is incomplete: {exc}") from exc
    if keks and active not in versions:
        raise ConfigurationError(f"key file {path}: active KEK version {active} is missing")
    return material


def _write_private(path: Path, material: KeyMaterial, *, exclusive: bool) -> None:
    doc: dict[str, object] = {"format": FORMAT}
    if material.keks:
        doc["active"] = material.active
        doc["kek"] = {str(v): _b64(k) for v, k in sorted(material.keks.items())}
    doc |= {
        "index_key": _b64(material.index_key),
        "audit_key": _b64(material.audit_key),
        "token_key": _b64(material.token_key),
    }
    data = (json.dumps(doc, indent=2) + "\n").encode()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = path if exclusive else path.with_name(path.name + ".new")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError as exc:
        raise ConfigurationError(f"key file {path} already exists; refusing to overwrite") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    if not exclusive:
        os.replace(target, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def create_key_file(path: Path, *, keks: bool = True) -> KeyMaterial:
    """Write a new key file (never over an existing one); `keks=False` when the KEKs
    are made in a PKCS#11 token instead."""
    material = KeyMaterial(
        active=1 if keks else 0,
        keks={1: p.random_key()} if keks else {},
        index_key=p.random_key(),
        audit_key=p.random_key(),
        token_key=p.random_key(),
    )
    _write_private(path, material, exclusive=True)
    return material


def add_kek_version(path: Path, *, activate: bool = True) -> KeyMaterial:
    """Add a new KEK version and (unless `activate=False`) make it active; old versions
    stay for reading."""
    current = read_key_file(path)
    version = max(current.keks) + 1
    material = KeyMaterial(
        active=version if activate else current.active,
        keks={**current.keks, version: p.random_key()},
        index_key=current.index_key,
        audit_key=current.audit_key,
        token_key=current.token_key,
    )
    _write_private(path, material, exclusive=False)
    return material


def activate_kek_version(path: Path, version: int) -> KeyMaterial:
    """Make `version` the KEK that wraps new data keys."""
    current = read_key_file(path)
    if version not in current.keks:
        raise ConfigurationError(f"KEK version {version} is not in the key file {path}")
    material = KeyMaterial(version, current.keks, current.index_key, current.audit_key,
                           current.token_key)
    _write_private(path, material, exclusive=False)
    return material


def retire_kek_version(path: Path, version: int) -> KeyMaterial:
    current = read_key_file(path)
    if version == current.active:
        raise ConfigurationError(f"KEK version {version} is active and cannot be retired")
    if version not in current.keks:
        raise ConfigurationError(f"KEK version {version} is not in the key file")
    keks = {v: k for v, k in current.keks.items() if v != version}
    material = KeyMaterial(current.active, keks, current.index_key, current.audit_key,
                           current.token_key)
    _write_private(path, material, exclusive=False)
    return material
