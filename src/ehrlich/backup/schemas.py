"""The manifest inside every archive, the sidecar beside it, and listing rows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_FORMAT = "ehrlich-backup/1"
ARCHIVE_SUFFIX = ".tar.zst.age"
LEDGER_MEMBER = "erasure-ledger.jsonl"
"""The erasure ledger's chain when the snapshot was taken, inside the encrypted archive."""
SIDECAR_SUFFIX = ".manifest.json"


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class LedgerMark(BaseModel):
    """How far the erasure ledger reached when the snapshot was taken."""

    entries: int = Field(ge=0)
    last_erased_at: datetime | None = None


class Manifest(BaseModel):
    """`manifest.json`, the last member of the archive. No personal data."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["ehrlich-backup/1"] = "ehrlich-backup/1"
    backup_id: str
    created_at: datetime
    ehrlich_version: str
    database: Literal["sqlite", "postgresql"]
    schema_revisions: list[str]
    row_counts: dict[str, int]
    members: dict[str, Member]
    ledger: LedgerMark


class Sidecar(BaseModel):
    """`ID.manifest.json` beside the archive, written last: its presence means complete.

    Signed, and naming its backup and archive, so that an edited, forged or
    swapped manifest is detected (see `reading.read_sidecar`).
    """

    model_config = ConfigDict(extra="forbid")

    manifest: Manifest
    archive: str
    archive_size: int = Field(ge=0)
    archive_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    recipients: list[str]
    signature: str | None = None
    """Ed25519 (base64) over everything above, by the instance's backup signing key.
    Absent only in manifests made before signing (`signed` is False)."""

    @property
    def signed(self) -> bool:
        """Whether the manifest claims a signature (one made before signing has no field)."""
        return "signature" in self.model_fields_set


class BackupListing(BaseModel):
    backup_id: str
    created_at: datetime
    size: int
    destination: str
    verified: Literal["ok", "failed", "never"]
    verified_at: datetime | None = None
    signed: bool = True


class VerificationRecord(BaseModel):
    """A verification as this instance recorded it (the overview's "last verified backup")."""

    backup_id: str
    at: datetime
    ok: bool


class VerifyReport(BaseModel):
    backup_id: str
    ok: bool
    detail: str
    row_counts: dict[str, int] = Field(default_factory=dict)
    erasures_replayed: int = 0
    signed: bool = True


class RestoreReport(BaseModel):
    backup_id: str
    target: str
    row_counts: dict[str, int]
    erasures_replayed: int
    ledger: Literal["live", "backup copy", "both"] = "live"
    """Whose erasures were replayed: the live ledger (the usual case, it is newer), the
    backup's copy (the live ledger had lost entries, which were appended back to it),
    or both (the two had diverged)."""
    signed: bool = True
