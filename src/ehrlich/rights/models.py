"""The data-request queue: one row per request a person made (GDPR Art. 15-21).

A row holds the kind, the channel it came by, how the person's identity was
checked, the dates (received, due one month later, extended by at most two more
months, Art. 12(3)), the status and the result. It names the person by subject
id only: what a person asks to have corrected is personal data, so it is sealed
as a note under their own data key (`SubjectsService.add_note`) and shredded with
them. The free-text fields (extension reason, result) describe the handling of
the request, never the person; the console says so beside them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime, uuid_column_type


class DataRequest(Base):
    __tablename__ = "data_requests"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(uuid_column_type(), nullable=True)
    """No foreign key: the request (and its proof of handling) outlives the erasure."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    identity_check: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    extended_to: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    extension_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    note_id: Mapped[str | None] = mapped_column(uuid_column_type(), nullable=True)
    """The sealed note with what the person asked for (rectification), if any."""
    recorded_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_data_requests_open", "status", "due_at"),
        Index("ix_data_requests_subject", "subject_id"),
    )
