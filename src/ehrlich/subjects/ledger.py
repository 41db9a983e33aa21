"""The erasure ledger: who was erased, kept outside the database and its backups.

An append-only JSON-lines file. Each line carries the erased subject id, its
blind indexes (never plaintext) and the time, and is MAC-chained to the line
before, so a restore can trust what it replays. Appends take an exclusive
`flock` and are fsynced before the erasure commits: a crash between the two
leaves a ledger line for a subject that is still present, which the next
replay erases — never the reverse.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ehrlich.crypto import Keyring
from ehrlich.crypto.digests import constant_time_equal, derive_key, hmac_sha256
from ehrlich.crypto.envelope import length_prefixed
from ehrlich.errors import ConfigurationError, IntegrityFailure

_GENESIS = "0" * 64


def _last_mac(fd: int) -> str:
    """The MAC of the last line, read from the file's tail (lines are short)."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return _GENESIS
    start = max(0, size - 65536)
    tail = os.pread(fd, size - start, start).decode("utf-8")
    lines = [line for line in tail.splitlines() if line.strip()]
    return str(json.loads(lines[-1])["mac"]) if lines else _GENESIS


@dataclass(frozen=True)
class ErasureRecord:
    subject_id: str
    email_index: bytes | None
    phone_index: bytes | None
    erased_at: datetime


class ErasureLedger:
    def __init__(self, path: Path, keyring: Keyring) -> None:
        self.path = path
        self._key = derive_key(keyring.audit_key, b"ehrlich erasure ledger v1")

    def _mac(self, prev: str, body: str) -> str:
        return hmac_sha256(self._key, length_prefixed(prev.encode(), body.encode())).hex()

    def append(self, record: ErasureRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({
            "subject_id": record.subject_id,
            "email_index": record.email_index.hex() if record.email_index else None,
            "phone_index": record.phone_index.hex() if record.phone_index else None,
            "erased_at": record.erased_at.isoformat(),
        }, sort_keys=True, separators=(",", ":"))
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                prev = _last_mac(fh.fileno())
                fh.write(json.dumps({"entry": json.loads(body), "prev": prev,
                                     "mac": self._mac(prev, body)},
                                    separators=(",", ":")) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def records(self) -> Iterator[ErasureRecord]:
        """Every erasure, oldest first; raises if the ledger was altered or is unreadable."""
        if not self.path.exists():
            return
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"erasure ledger {self.path} cannot be read: {exc}") from exc
        prev = _GENESIS
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                body = json.dumps(doc["entry"], sort_keys=True, separators=(",", ":"))
                ok = doc["prev"] == prev and constant_time_equal(
                    bytes.fromhex(doc["mac"]), bytes.fromhex(self._mac(prev, body)))
            except (ValueError, KeyError, TypeError) as exc:
                raise IntegrityFailure(
                    f"erasure ledger {self.path} line {number} is damaged") from exc
            if not ok:
                raise IntegrityFailure(
                    f"erasure ledger {self.path} line {number} was altered or removed")
            prev = doc["mac"]
            entry = doc["entry"]
            yield ErasureRecord(
                subject_id=entry["subject_id"],
                email_index=bytes.fromhex(entry["email_index"]) if entry["email_index"] else None,
                phone_index=bytes.fromhex(entry["phone_index"]) if entry["phone_index"] else None,
                erased_at=datetime.fromisoformat(entry["erased_at"]),
            )
