"""Maintenance mode: a flag file in the data directory, set while a restore runs.

It lives outside the database because the database is what is being
replaced. Anything that sends mail must check `active()` first and hold the
mail while it is set (the mail sender honours it), so no message goes out
on the strength of half-restored data.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

FLAG_NAME = "maintenance"


class MaintenanceFlag:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FLAG_NAME

    def begin(self, reason: str, *, now: datetime) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"reason": reason, "since": now.isoformat()}, fh)
            fh.flush()
            os.fsync(fh.fileno())

    def end(self) -> None:
        self.path.unlink(missing_ok=True)

    def active(self) -> bool:
        return self.path.exists()

    def reason(self) -> str | None:
        try:
            return str(json.loads(self.path.read_text())["reason"])
        except (OSError, ValueError, KeyError):
            return "maintenance" if self.path.exists() else None


def mail_allowed(data_dir: Path) -> bool:
    """False while the instance is in maintenance mode; mail senders check this."""
    return not MaintenanceFlag(data_dir).active()
