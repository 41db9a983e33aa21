"""Import runs and their rejected rows.

A run keeps counts and settings only. The rejected-rows report keeps the row
number, the column and the reason, never a cell's value: the report holds no
personal data, so it can be kept and downloaded without sealing, and the user
matches the row numbers against their own file. The uploaded file itself is
sealed under a key of its own while the run waits or runs (`imports.uploads`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime, uuid_column_type

STATUS_DRAFT = "draft"
STATUS_READY = "ready"
STATUS_RUNNING = "running"
STATUS_DONE = "done"
STATUS_FAILED = "failed"


class ImportRun(Base):
    __tablename__ = "import_runs"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_READY)
    actor: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    settings: Mapped[str] = mapped_column(Text)
    """The mapping, evidence mapping and options as JSON (column names, no cell values)."""
    encoding: Mapped[str] = mapped_column(String(16))
    delimiter: Mapped[str] = mapped_column(String(1))
    total_rows: Mapped[int] = mapped_column(Integer)
    done_rows: Mapped[int] = mapped_column(Integer, default=0)
    """Rows handled in committed batches: a resumed run starts after them."""
    created: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    with_evidence: Mapped[int] = mapped_column(Integer, default=0)
    asked_again: Mapped[int] = mapped_column(Integer, default=0)
    """Re-permission mails sent (double opt-in requests for rows without evidence)."""
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The key the uploaded file is sealed with; gone when the run ends."""
    failure: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ImportRejection(Base):
    """One refused row: where and why, without its values."""

    __tablename__ = "import_rejections"

    run_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("import_runs.id"),
                                        primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)
    field: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
