"""Opening a backup: every check between the destination and the dump.

Order matters for clear messages: the sidecar manifest must exist (else the
backup is incomplete), carry this instance's signature (else forged or
edited) and name the backup asked for (else swapped with another one at
the destination); the archive's size must match it (else truncated), the
bytes read must hash to it (else corrupt or swapped), the identity must
open it, and the inner manifest must agree with the sidecar and with each
member. The dump is streamed to disk as it is read: a SQLite database file
in the private work directory, or a sealed spool for a pg_dump.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pydantic import ValidationError

from ehrlich.backup import snapshot
from ehrlich.backup.archive import MANIFEST_MEMBER, HashingReader, unpack
from ehrlich.backup.errors import BackupDamaged, BackupNotFound, BackupUnsigned
from ehrlich.backup.interfaces import BackupStore
from ehrlich.backup.schemas import (
    ARCHIVE_SUFFIX,
    LEDGER_MEMBER,
    SIDECAR_SUFFIX,
    Manifest,
    Sidecar,
)
from ehrlich.crypto import SignatureInvalid, SigningKey, verify_signature
from ehrlich.crypto.spool import SealedSpool
from ehrlich.errors import IntegrityFailure

if TYPE_CHECKING:
    from pyrage import x25519

__all__ = ["MANIFEST_MEMBER", "OpenedBackup", "open_backup", "read_sidecar", "sign_sidecar"]

_SIGNING_CONTEXT = b"ehrlich-backup-manifest/1\n"


@dataclass(frozen=True)
class OpenedBackup:
    sidecar: Sidecar
    manifest: Manifest
    member: str
    dump: snapshot.Dump
    ledger_copy: Path | None = None
    """The erasure ledger's chain as the backup holds it (None in backups made before
    they carried one); removed with the dump."""


def signed_bytes(sidecar: Sidecar) -> bytes:
    """What the signature covers: everything in the sidecar but the signature, canonically."""
    fields = sidecar.model_dump(mode="json", exclude={"signature"})
    return _SIGNING_CONTEXT + json.dumps(fields, sort_keys=True,
                                         separators=(",", ":")).encode()


def sign_sidecar(sidecar: Sidecar, key: SigningKey) -> Sidecar:
    return sidecar.model_copy(update={"signature": key.sign(signed_bytes(sidecar))})


def read_sidecar(store: BackupStore, backup_id: str, public_key: bytes | None, *,
                 allow_unsigned: bool = False) -> Sidecar:
    """The signed manifest beside the archive, checked to be this instance's and this id's.

    A manifest made before signing (no signature field at all) is refused unless
    `allow_unsigned`; one that has the field must carry this instance's signature.
    `public_key` is None on an instance that has no signing key yet."""
    name = backup_id + SIDECAR_SUFFIX
    if store.size(name) is None:
        if store.size(backup_id + ARCHIVE_SUFFIX) is None:
            raise BackupNotFound(f"no backup {backup_id} at {store.url}")
        raise BackupDamaged(f"backup {backup_id} has no manifest at {store.url}: it is "
                            "incomplete (interrupted) or its manifest was removed")
    with store.reader(name) as fh:
        raw = fh.read()
    try:
        sidecar = Sidecar.model_validate_json(raw)
    except ValidationError as exc:
        raise BackupDamaged(f"the manifest of backup {backup_id} is damaged: "
                            f"{exc.errors()[0]['msg']}") from exc
    if not sidecar.signed:
        if not allow_unsigned:
            raise BackupUnsigned(f"backup {backup_id} at {store.url} is unsigned (made before "
                                 "signing): nothing proves this instance made it; verify or "
                                 "restore it only with --allow-unsigned")
    elif public_key is None:
        raise BackupDamaged(f"the manifest of backup {backup_id} at {store.url} is signed but "
                            "this instance has no backup_signing_public_key to check it: run "
                            "`ehrlich backup signing-key create` or restore the configuration")
    else:
        _check_signature(sidecar, backup_id, store, public_key)
    if sidecar.manifest.backup_id != backup_id or \
            sidecar.archive != backup_id + ARCHIVE_SUFFIX:
        raise BackupDamaged(f"the manifest stored as backup {backup_id} at {store.url} is "
                            f"that of backup {sidecar.manifest.backup_id}: backups were "
                            "swapped or renamed at the destination")
    return sidecar


def _check_signature(sidecar: Sidecar, backup_id: str, store: BackupStore,
                     public_key: bytes) -> None:
    try:
        verify_signature(public_key, sidecar.signature or "", signed_bytes(sidecar))
    except SignatureInvalid as exc:
        raise BackupDamaged(f"the manifest of backup {backup_id} at {store.url} does not "
                            "carry this instance's signature: it was forged or altered "
                            "(check backup_signing_public_key)") from exc


def check_archive(store: BackupStore, sidecar: Sidecar) -> None:
    """The archive at `store` has the size and SHA-256 its signed manifest states."""
    label = f"backup {sidecar.manifest.backup_id}"
    size = store.size(sidecar.archive)
    if size is None:
        raise BackupDamaged(f"{label}: the archive {sidecar.archive} is missing at {store.url}")
    if size != sidecar.archive_size:
        raise BackupDamaged(f"{label}: the archive at {store.url} is {size} bytes but its "
                            f"manifest says {sidecar.archive_size}: it was truncated or "
                            "altered")
    with store.reader(sidecar.archive) as fh:
        source = HashingReader(fh)
        source.drain()
    if source.hexdigest() != sidecar.archive_sha256:
        raise BackupDamaged(f"{label}: the SHA-256 of the archive at {store.url} does not "
                            "match its manifest: the archive is corrupt, altered or swapped")


@contextlib.contextmanager
def open_backup(store: BackupStore, backup_id: str, identity: x25519.Identity, *,
                public_key: bytes | None, work_dir: Path,
                allow_unsigned: bool = False) -> Iterator[OpenedBackup]:
    """The backup checked and its dump on disk; the dump is removed afterwards."""
    sidecar = read_sidecar(store, backup_id, public_key, allow_unsigned=allow_unsigned)
    label = f"backup {backup_id}"
    size = store.size(sidecar.archive)
    if size is None:
        raise BackupDamaged(f"{label}: the archive {sidecar.archive} is missing")
    if size != sidecar.archive_size:
        raise BackupDamaged(f"{label}: the archive is {size} bytes but its manifest says "
                            f"{sidecar.archive_size}: it was truncated or altered")
    tar_size = sum(m.size for m in sidecar.manifest.members.values()) + 64 * 1024
    corrupt = BackupDamaged(f"{label}: the SHA-256 of the archive does not match its "
                            "manifest: the archive is corrupt, altered or swapped")
    expected = set(sidecar.manifest.members)
    dumps_named = sorted(expected - {LEDGER_MEMBER})
    member = dumps_named[0] if dumps_named else snapshot.SQLITE_MEMBER
    path = snapshot.work_path(work_dir, f"{backup_id}.{member}")
    copy_path = snapshot.work_path(work_dir, f"{backup_id}.{LEDGER_MEMBER}")
    spool = SealedSpool(path) if member == snapshot.POSTGRES_MEMBER else None
    try:
        with contextlib.ExitStack() as files:
            sinks: list[str] = []

            def sink(name: str) -> BinaryIO:
                if name not in expected or len(dumps_named) != 1 or name in sinks:
                    raise BackupDamaged(f"{label}: member {name!r} is not in its manifest")
                sinks.append(name)
                return files.enter_context(_member_file(
                    copy_path if name == LEDGER_MEMBER else path,
                    spool if name != LEDGER_MEMBER else None))

            with store.reader(sidecar.archive) as fh:
                source = HashingReader(fh)
                try:
                    unpacked = unpack(source, identity, label=label, expected_size=tar_size,
                                      sink=sink)
                except IntegrityFailure as exc:
                    source.drain()
                    if source.hexdigest() != sidecar.archive_sha256:
                        raise corrupt from exc
                    raise
                source.drain()
        if source.hexdigest() != sidecar.archive_sha256:
            raise corrupt
        manifest = _inner_manifest(unpacked.manifest, unpacked.names, sidecar, label=label)
        members = [n for n in unpacked.names if n != MANIFEST_MEMBER]
        if len(members) != len(set(members)) or set(members) != set(manifest.members):
            raise BackupDamaged(f"{label}: members {members} do not match the manifest")
        for name in members:
            want = manifest.members[name]
            if unpacked.hashes[name] != (want.size, want.sha256):
                raise BackupDamaged(f"{label}: {name} does not match its size and SHA-256")
        want = manifest.members[member]
        yield OpenedBackup(sidecar, manifest, member,
                           snapshot.Dump(member, want.size, path, spool),
                           copy_path if LEDGER_MEMBER in members else None)
    finally:
        snapshot.remove_sqlite(path)
        copy_path.unlink(missing_ok=True)


def _member_file(path: Path, spool: SealedSpool | None) -> contextlib.AbstractContextManager[
        BinaryIO]:
    """Where a member goes: the sealed spool of a pg_dump, or a private new file."""
    if spool is not None:
        return spool.writer()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb", buffering=1024 * 1024)


def _inner_manifest(raw: bytes, names: list[str], sidecar: Sidecar, *, label: str
                    ) -> Manifest:
    if MANIFEST_MEMBER not in names:
        raise BackupDamaged(f"{label}: the archive holds no {MANIFEST_MEMBER}")
    try:
        manifest = Manifest.model_validate_json(raw)
    except ValidationError as exc:
        raise BackupDamaged(f"{label}: {MANIFEST_MEMBER} inside is damaged") from exc
    if manifest != sidecar.manifest or names[-1] != MANIFEST_MEMBER:
        raise BackupDamaged(f"{label}: the manifest inside the archive and the one beside "
                            "it disagree")
    return manifest
