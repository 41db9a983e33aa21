"""The uploaded file while its import waits or runs: sealed, and shredded at the end.

The file is encrypted under a data key of its own (AES-GCM through the crypto
recipes), bound to the run's id; the key, wrapped by the KEK, is kept on the
run row. Ending the run deletes the key and the file, so a copy of the file
left behind (a backup of the data directory, a disk block) cannot be read.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from ehrlich.crypto import FieldCipher, FieldContext, Keyring

FOLDER = "imports"


def _context(run_id: str) -> FieldContext:
    return FieldContext(table="import_runs", field="upload", record_id=run_id,
                        subject_id="")


def upload_path(data_dir: Path, run_id: str) -> Path:
    return data_dir / FOLDER / f"{run_id}.sealed"


def seal_upload(keyring: Keyring, data_dir: Path, run_id: str, raw: bytes) -> bytes:
    """Write the sealed file; returns the wrapped key to keep on the run."""
    data_key = keyring.new_data_key()
    blob = FieldCipher(data_key).encrypt(base64.b64encode(raw).decode("ascii"),
                                         context=_context(run_id))
    path = upload_path(data_dir, run_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(blob)
    return keyring.wrap_data_key(data_key, subject_id=f"import:{run_id}")


def open_upload(keyring: Keyring, data_dir: Path, run_id: str, wrapped: bytes) -> bytes:
    data_key = keyring.unwrap_data_key(wrapped, subject_id=f"import:{run_id}")
    blob = upload_path(data_dir, run_id).read_bytes()
    return base64.b64decode(FieldCipher(data_key).decrypt(blob, context=_context(run_id)))


def discard_upload(data_dir: Path, run_id: str) -> None:
    upload_path(data_dir, run_id).unlink(missing_ok=True)
