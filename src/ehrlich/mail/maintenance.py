"""The maintenance switch: while it is on, no mail leaves the instance.

A file (default `<data_dir>/maintenance`, setting `EHRLICH_MAINTENANCE_FILE`)
rather than a database row, because a restore replaces the database and would
take a row with it. `ehrlich backup restore` turns it on before it touches the
database and off after the erasure ledger has been replayed; the mail task
checks it before every delivery and reschedules instead of sending.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path


class MaintenanceSwitch:
    def __init__(self, path: Path) -> None:
        self.path = path

    def is_on(self) -> bool:
        return self.path.exists()

    def reason(self) -> str | None:
        try:
            return str(json.loads(self.path.read_text(encoding="utf-8")).get("reason", ""))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return ""  # present but unreadable: still on

    def turn_on(self, *, reason: str, now: datetime) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"reason": reason, "since": now.isoformat()}),
                       encoding="utf-8")
        os.replace(tmp, self.path)

    def turn_off(self) -> None:
        self.path.unlink(missing_ok=True)

    @contextmanager
    def held(self, *, reason: str, now: datetime) -> Iterator[None]:
        """On for the duration of the block; stays on if the block fails, so an
        operator decides when mail may flow again."""
        self.turn_on(reason=reason, now=now)
        yield
        self.turn_off()
