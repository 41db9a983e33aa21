"""What can go wrong with a backup, each with a message that says what to do."""

from __future__ import annotations

from ehrlich.errors import Conflict, IntegrityFailure, NotFound


class BackupNotFound(NotFound):
    title = "Backup not found"


class BackupDamaged(IntegrityFailure):
    """The archive or its manifest fails a check: corrupt, truncated or incomplete."""

    title = "Backup damaged"


class WrongIdentity(IntegrityFailure):
    title = "Identity does not open this backup"


class RestoreRefused(Conflict):
    """The restore would overwrite live data or cannot guarantee erasures; nothing changed."""

    title = "Restore refused"


class BackupUnsigned(IntegrityFailure):
    """A backup made before manifests were signed: opened only when asked for explicitly."""

    title = "Backup unsigned"
