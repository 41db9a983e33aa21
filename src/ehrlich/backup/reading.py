"""Opening a backup: every check between the destination and the dump bytes.

Order matters for clear messages: the sidecar manifest must exist (else the
backup is incomplete), the archive's size must match it (else truncated),
the bytes read must hash to it (else corrupt), the identity must open it,
and the inner manifest must agree with the sidecar and with each member.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pydantic import ValidationError
from pyrage import x25519

from ehrlich.backup.archive import HashingReader, unpack
from ehrlich.backup.errors import BackupDamaged, BackupNotFound
from ehrlich.backup.interfaces import BackupStore
from ehrlich.backup.schemas import ARCHIVE_SUFFIX, SIDECAR_SUFFIX, Manifest, Sidecar
from ehrlich.errors import IntegrityFailure

MANIFEST_MEMBER = "manifest.json"


@dataclass(frozen=True)
class OpenedBackup:
    sidecar: Sidecar
    manifest: Manifest
    member: str
    dump: memoryview


def read_sidecar(store: BackupStore, backup_id: str) -> Sidecar:
    name = backup_id + SIDECAR_SUFFIX
    if store.size(name) is None:
        if store.size(backup_id + ARCHIVE_SUFFIX) is None:
            raise BackupNotFound(f"no backup {backup_id} at {store.url}")
        raise BackupDamaged(f"backup {backup_id} has no manifest at {store.url}: it is "
                            "incomplete (interrupted) or its manifest was removed")
    with store.reader(name) as fh:
        raw = fh.read()
    try:
        return Sidecar.model_validate_json(raw)
    except ValidationError as exc:
        raise BackupDamaged(f"the manifest of backup {backup_id} is damaged: "
                            f"{exc.errors()[0]['msg']}") from exc


def open_backup(store: BackupStore, backup_id: str, identity: x25519.Identity
                ) -> OpenedBackup:
    sidecar = read_sidecar(store, backup_id)
    label = f"backup {backup_id}"
    size = store.size(sidecar.archive)
    if size is None:
        raise BackupDamaged(f"{label}: the archive {sidecar.archive} is missing")
    if size != sidecar.archive_size:
        raise BackupDamaged(f"{label}: the archive is {size} bytes but its manifest says "
                            f"{sidecar.archive_size}: it was truncated or altered")
    tar_size = sum(m.size for m in sidecar.manifest.members.values()) + 64 * 1024
    corrupt = BackupDamaged(f"{label}: the SHA-256 of the archive does not match its "
                            "manifest: the archive is corrupt or was altered")
    with store.reader(sidecar.archive) as fh:
        source = HashingReader(fh)
        try:
            members = unpack(source, identity, label=label, expected_size=tar_size)
        except IntegrityFailure as exc:
            source.drain()
            if source.hexdigest() != sidecar.archive_sha256:
                raise corrupt from exc
            raise
        source.drain()
    if source.hexdigest() != sidecar.archive_sha256:
        raise corrupt
    names = list(members)
    if MANIFEST_MEMBER not in members:
        raise BackupDamaged(f"{label}: the archive holds no {MANIFEST_MEMBER}")
    try:
        manifest = Manifest.model_validate_json(bytes(members[MANIFEST_MEMBER]))
    except ValidationError as exc:
        raise BackupDamaged(f"{label}: {MANIFEST_MEMBER} inside is damaged") from exc
    if manifest != sidecar.manifest or names[-1] != MANIFEST_MEMBER:
        raise BackupDamaged(f"{label}: the manifest inside the archive and the one beside "
                            "it disagree")
    dumps = [n for n in names if n != MANIFEST_MEMBER]
    if len(dumps) != 1 or set(dumps) != set(manifest.members):
        raise BackupDamaged(f"{label}: members {dumps} do not match the manifest")
    member, expected = dumps[0], manifest.members[dumps[0]]
    view = members[member]
    if len(view) != expected.size or hashlib.sha256(view).hexdigest() != expected.sha256:
        raise BackupDamaged(f"{label}: {member} does not match its size and SHA-256")
    return OpenedBackup(sidecar, manifest, member, view)
