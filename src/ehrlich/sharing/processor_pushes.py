"""Where a processor sync's changes go: a CSV file over SFTP, or signed webhook messages
queued for the recipient's endpoint."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy.orm import Session

from ehrlich.sharing.errors import NoWebhookEndpoint
from ehrlich.sharing.processor_settings import Change, SyncSettings
from ehrlich.spreadsheets import BOM, csv_text
from ehrlich.storage.database import Database


class Push(Protocol):
    """Where a run's changes go; `send` gets them in order and returns when delivered."""

    def send(self, run_id: str, kind: str, columns: tuple[str, ...],
             changes: Iterator[Change]) -> None: ...


class WebhookQueue(Protocol):
    """The signed webhook deliveries (`ehrlich.sharing.webhooks.Webhooks`): records a
    message for the recipient's endpoint and queues its delivery with retries in the
    caller's transaction; None when the recipient has no endpoint."""

    def queue(self, session: Session, *, recipient: str, event: str, message_id: str,
              data: Mapping[str, Any], reference: str, now: datetime) -> str | None: ...

    def set_endpoint(self, session: Session, recipient: str, url: str, *, actor: str,
                     now: datetime, rotate: bool = True) -> str | None: ...

    def endpoint(self, session: Session, recipient: str) -> _Endpoint | None: ...


class _Endpoint(Protocol):
    @property
    def url(self) -> str: ...


class SftpPush:
    """The run as one CSV file in the sync's folder, written under a temporary name and
    renamed when complete (the backup's SFTP client: known host keys only)."""

    def __init__(self, sync: SyncSettings, recipient: str, purpose: str) -> None:
        from ehrlich.backup.stores.sftp import SftpStore

        url = (f"sftp://{quote(sync.sftp_user, safe='')}@{sync.sftp_host}:{sync.sftp_port}"
               f"{sync.sftp_path}")
        self._store = SftpStore(url, key_file=Path(sync.sftp_key),
                                known_hosts=Path(sync.sftp_known_hosts)
                                if sync.sftp_known_hosts else None,
                                what=f"the SFTP server of {recipient}",
                                hint="check the sync's host, port, user, key file and "
                                     "known hosts file")
        self._prefix = f"{recipient}-{purpose}"

    def send(self, run_id: str, kind: str, columns: tuple[str, ...],
             changes: Iterator[Change]) -> None:
        full = kind == "full"
        header = columns if full else ("change", *columns)
        stamp = run_id.replace("-", "")
        name = f"{self._prefix}-{'full' if full else 'changes'}-{stamp}.csv"
        try:
            with self._store.writer(name) as out:
                out.write((BOM + csv_text([header])).encode())
                for change in changes:
                    if full:
                        rows = change.rows
                    elif change.kind in ("added", "changed"):
                        rows = [(change.kind, *row) for row in change.rows]
                    else:
                        blank = ("",) * (len(columns) - 1)
                        rows = [("removed", row[0], *blank) for row in change.rows]
                    out.write(csv_text(rows).encode())
        finally:
            self._store.close()


class WebhookPush:
    """The run as signed webhook messages, one per batch: `audience.removed` (ids) first,
    then `audience.added` and `audience.changed` (rows as objects; a changed row replaces
    what the processor holds under its id: a rectification). Each is queued for delivery
    with retries; the run is done when all are queued (their outcome is listed with the
    deliveries)."""

    def __init__(self, db: Database, webhooks: WebhookQueue, recipient: str,
                 purpose: str, *, now: datetime) -> None:
        self._db, self._webhooks, self._now = db, webhooks, now
        self._recipient, self._purpose = recipient, purpose

    def send(self, run_id: str, kind: str, columns: tuple[str, ...],
             changes: Iterator[Change]) -> None:
        for n, change in enumerate(changes):
            data: dict[str, Any] = {"recipient": self._recipient, "purpose": self._purpose,
                                    "run": run_id, "full": kind == "full"}
            if change.kind in ("added", "changed"):
                data["people"] = [dict(zip(columns, row, strict=True)) for row in change.rows]
            else:
                data["ids"] = [row[0] for row in change.rows]
            with self._db.write() as session:
                queued = self._webhooks.queue(
                    session, recipient=self._recipient, event=f"audience.{change.kind}",
                    message_id=f"msg_{run_id}-{n}", data=data,
                    reference=f"processor-run:{run_id}", now=self._now)
            if queued is None:
                raise NoWebhookEndpoint(f"{self._recipient!r} has no webhook endpoint: set "
                                        "one on the recipient's sync page")
