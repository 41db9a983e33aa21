"""Which erasures a restore (or a verification) replays: the newer of two ledgers.

Every backup carries the erasure ledger's chain as it was when the snapshot was
taken. The live ledger is normally newer (it holds every erasure since), but it
may have lost entries (its database was itself restored from an older state, or
replaced): then the backup's copy is newer. Both chains are verified with the
instance's key, and the replay takes every erasure either holds, so neither a
lost live ledger nor an old backup can bring an erased person back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ehrlich.backup.errors import BackupDamaged, RestoreRefused
from ehrlich.backup.reading import OpenedBackup
from ehrlich.errors import EhrlichError
from ehrlich.subjects.ledger import ErasureLedger, ErasureRecord, LedgerEntry

Source = Literal["live", "backup copy", "both"]


@dataclass(frozen=True)
class Erasures:
    records: list[ErasureRecord]
    source: Source
    """Whose erasures these are: see `RestoreReport.ledger`."""
    missing_live: list[LedgerEntry]
    """Erasures the backup's copy holds and the live ledger lacks."""


def live_entries(ledger: ErasureLedger) -> list[LedgerEntry]:
    """The live ledger, or a refusal: without it a restore could bring erased people back."""
    try:
        return list(ledger.entries())
    except EhrlichError as exc:
        raise RestoreRefused(
            f"the erasure ledger {ledger.location} cannot be read ({exc.message}); without "
            "it a restore could bring erased people back, so it was refused (use --ledger to "
            "name a good copy of the ledger database)") from exc


def erasures_to_replay(ledger: ErasureLedger, opened: OpenedBackup,
                       live: list[LedgerEntry] | None = None) -> Erasures:
    """The erasures of the live ledger and of the backup's copy, whichever is newer."""
    live = live_entries(ledger) if live is None else live
    backup_id = opened.manifest.backup_id
    if opened.ledger_copy is None:  # made before backups carried the ledger
        if len(live) < opened.manifest.ledger.entries:
            raise RestoreRefused(
                f"the erasure ledger {ledger.location} holds {len(live)} erasures but held "
                f"{opened.manifest.ledger.entries} when backup {backup_id} was made (a "
                "backup too old to carry a copy of the ledger): it was replaced or cut "
                "short; restore refused")
        return Erasures([e.record for e in live], "live", [])
    try:
        copy = list(ledger.read_copy(opened.ledger_copy,
                                     label=f"copy in backup {backup_id}"))
    except EhrlichError as exc:
        raise BackupDamaged(f"backup {backup_id}: its copy of the erasure ledger does not "
                            f"verify ({exc.message})") from exc
    if len(copy) != opened.manifest.ledger.entries:
        raise BackupDamaged(f"backup {backup_id}: its copy of the erasure ledger holds "
                            f"{len(copy)} erasures, its manifest {opened.manifest.ledger.entries}")
    held = {e.key for e in live}
    missing = [e for e in copy if e.key not in held]
    if not missing:
        return Erasures([e.record for e in live], "live", [])
    in_copy = {e.key for e in copy}
    source: Source = "backup copy" if held <= in_copy else "both"
    return Erasures([e.record for e in live] + [e.record for e in missing], source, missing)
