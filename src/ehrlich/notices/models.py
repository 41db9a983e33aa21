"""Published notice versions (immutable rows, numbered, identified by a content hash), the
one draft being edited in the console, and the branding the public pages show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, LargeBinary, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.errors import Conflict
from ehrlich.storage.base import Base, UTCDateTime


class NoticeVersion(Base):
    __tablename__ = "notice_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    canonical: Mapped[str] = mapped_column(Text)
    """The notice as canonical JSON (sorted keys, no spaces): what the hash covers."""
    source: Mapped[str] = mapped_column(Text)
    """The YAML file as it was published, comments included."""
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    publisher: Mapped[str] = mapped_column(String(200))


@event.listens_for(NoticeVersion, "before_update")
def _immutable(_mapper: Any, _connection: Any, target: NoticeVersion) -> None:
    raise Conflict(f"notice version {target.number} is published and cannot change; "
                   "publish a new version instead")


@event.listens_for(NoticeVersion, "before_delete")
def _undeletable(_mapper: Any, _connection: Any, target: NoticeVersion) -> None:
    raise Conflict(f"notice version {target.number} is published and cannot be deleted; "
                   "consents point at it")


class NoticeDraft(Base):
    """The draft being edited in the console: one per instance (id 1)."""

    __tablename__ = "notice_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    saved_by: Mapped[str] = mapped_column(String(200))


class Branding(Base):
    """How the public pages name the business: one row per instance (id 1)."""

    __tablename__ = "branding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(300))
    accent: Mapped[str] = mapped_column(String(7))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    logo_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
