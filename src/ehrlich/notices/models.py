"""Published notice versions: immutable rows, numbered, identified by a content hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, event
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
