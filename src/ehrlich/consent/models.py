"""Consent tables: the append-only event ledger, the derived current state, suppressions.

`consent_events` is only ever inserted into. `consent_states` holds one row per
(subject, purpose, channel), rewritten in the same transaction as each event,
so audience queries never replay the ledger. `suppressions` holds blind-index
hashes only, never addresses. `consent_daily_counts` and `consent_active_counts` are
counts kept in the same transactions (`consent.counts`), for the console's overview.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime, uuid_column_type

ALL_PURPOSES = "*"


class ConsentEvent(Base):
    __tablename__ = "consent_events"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    subject_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("subjects.id"))
    purpose: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(20))
    legal_basis: Mapped[str] = mapped_column(String(32))
    notice_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    notice_hash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    language: Mapped[str] = mapped_column(String(35))
    text_shown: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    form: Mapped[str | None] = mapped_column(String(500), nullable=True)
    default_state: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ip_network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sec_gpc: Mapped[str | None] = mapped_column(String(16), nullable=True)
    extra: Mapped[str] = mapped_column(Text, default="")
    prev_event_id: Mapped[str | None] = mapped_column(uuid_column_type(), nullable=True)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        Index("ix_consent_events_subject", "subject_id", "purpose", "channel", "at"),
    )


class ConsentState(Base):
    __tablename__ = "consent_states"

    subject_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("subjects.id"),
                                            primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    notice_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_event_id: Mapped[str | None] = mapped_column(uuid_column_type(), nullable=True)
    last_event_hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        Index("ix_consent_states_audience", "purpose", "channel", "state", "subject_id"),
    )


class Suppression(Base):
    """An address (blind index) that must not be re-enrolled for a purpose, or any ("*")."""

    __tablename__ = "suppressions"

    email_index: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsentDailyCount(Base):
    """Events per UTC day, purpose, channel and action, spread over shards
    (`storage.tallies`); the overview's chart sums them."""

    __tablename__ = "consent_daily_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(20), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class ConsentActiveCount(Base):
    """Consent states that are `active`, per purpose and channel, spread over shards."""

    __tablename__ = "consent_active_counts"

    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
