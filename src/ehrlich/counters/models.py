"""The counters table: shared throttling state when no Redis is configured."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime


class AuthCounter(Base):
    """Shared throttling state when no Redis is configured: counters per time bucket,
    and claimed one-time keys (solved CAPTCHAs, sent notices)."""

    __tablename__ = "auth_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
