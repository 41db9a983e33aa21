"""The subjects' data keys under the KEKs: re-wrapping after a rotation, and counts.

Only wrapped keys are handled here; no field is opened.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.crypto import Keyring, key_version
from ehrlich.storage.database import Database
from ehrlich.subjects.models import DataKey


def rewrap_data_keys(db: Database, keyring: Keyring, *, batch: int,
                     progress: Callable[[int], None] | None = None) -> int:
    """Re-wrap data keys under the active KEK, one committed batch at a time.

    Resumable: it only picks keys still under an older version, so an
    interrupted run continues where it stopped. Reads work throughout.
    """
    done = 0
    while True:
        active = keyring.provider.active_version  # it follows an activation elsewhere
        with db.write() as session:
            keys = session.execute(
                select(DataKey).where(DataKey.kek_version != active)
                .order_by(DataKey.subject_id).limit(batch).with_for_update()
            ).scalars().all()
            for key in keys:
                plain = keyring.unwrap_data_key(key.wrapped, subject_id=key.subject_id)
                key.wrapped = keyring.wrap_data_key(plain, subject_id=key.subject_id)
                key.kek_version = key_version(key.wrapped)
        done += len(keys)
        if progress is not None and keys:
            progress(len(keys))
        if len(keys) < batch:
            return done


def count_by_kek_version(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(DataKey.kek_version, func.count()).group_by(DataKey.kek_version)).all()
    return {int(v): int(n) for v, n in rows}
