"""Backups made and verifications run, as this instance saw them.

The archives' truth is the destination and its manifests; these rows add
what happened here: when a run started and ended, and each verification's
outcome (evidence of regular testing, GDPR Art. 32(1)(d)).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime

RUN_RUNNING = "running"
RUN_COMPLETE = "complete"
RUN_FAILED = "failed"


class BackupRun(Base):
    __tablename__ = "backups"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    destination: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class BackupVerification(Base):
    __tablename__ = "backup_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    backup_id: Mapped[str] = mapped_column(String(80), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")
