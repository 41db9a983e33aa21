"""The breach register (GDPR Art. 33(5)): one row per suspected personal-data breach.

A row describes the incident, never a person: what happened, which data categories,
how many people (counted from the audit chain where the chain can tell, else
estimated), the 72-hour clock to the supervisory authority, the measures taken and
whether the people must be told (Art. 34), with the draft of that notice. The people
affected are counted, not listed: the count and the scope it came from (actor and
window) can be recomputed from the audit chain at any time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime, uuid_column_type


class Breach(Base):
    __tablename__ = "breaches"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    what_happened: Mapped[str] = mapped_column(Text, default="")
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the business became aware of it: the 72 hours run from here (Art. 33(1))."""
    data_categories: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of the notice's data-category ids."""
    people_estimate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scope_actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    scope_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    scope_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    people_counted: Mapped[int | None] = mapped_column(Integer, nullable=True)
    batch_rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    consequences: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    authority_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    authority_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    authority_not_notified: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why the authority is not notified (unlikely to result in a risk, Art. 33(1))."""
    tell_people: Mapped[str] = mapped_column(String(16), default="undecided")
    tell_people_reason: Mapped[str] = mapped_column(Text, default="")
    people_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notice_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    notice_de: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (Index("ix_breaches_status", "status", "noticed_at"),)
