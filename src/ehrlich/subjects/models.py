"""Subject tables. Personal fields are ciphertext; lookups go through blind indexes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, Bytes, UTCDateTime, uuid_column_type

STATE_ACTIVE = "active"
STATE_ERASED = "erased"


class Subject(Base):
    __tablename__ = "subjects"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=STATE_ACTIVE)
    source: Mapped[str] = mapped_column(String(200))
    obtained_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    email_index: Mapped[bytes | None] = mapped_column(Bytes(32), unique=True, nullable=True)
    phone_index: Mapped[bytes | None] = mapped_column(Bytes(32), nullable=True)
    email_ct: Mapped[bytes | None] = mapped_column(Bytes, nullable=True)
    name_ct: Mapped[bytes | None] = mapped_column(Bytes, nullable=True)
    phone_ct: Mapped[bytes | None] = mapped_column(Bytes, nullable=True)
    attributes_ct: Mapped[bytes | None] = mapped_column(Bytes, nullable=True)

    __table_args__ = (
        Index("ix_subjects_phone_index", "phone_index"),
        # the console's contact list: newest first, one index range per page (keyset)
        Index("ix_subjects_listing", "created_at", "id"),
        Index("ix_subjects_source_listing", "source", "created_at", "id"),
    )


class DataKey(Base):
    """A subject's data key, wrapped by the KEK. Deleting it shreds the subject."""

    __tablename__ = "data_keys"

    subject_id: Mapped[str] = mapped_column(
        uuid_column_type(), ForeignKey("subjects.id"), primary_key=True
    )
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    wrapped: Mapped[bytes] = mapped_column(Bytes)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SubjectNote(Base):
    """A staff note about a person: personal data, sealed under the person's data key,
    so that erasure shreds it with everything else."""

    __tablename__ = "subject_notes"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    subject_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("subjects.id"))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body_ct: Mapped[bytes | None] = mapped_column(Bytes, nullable=True)

    __table_args__ = (Index("ix_subject_notes_subject", "subject_id", "created_at"),)


class SubjectCount(Base):
    """Subjects per state (active, erased), kept by the subjects service in the
    transactions that create and erase them, spread over shards (`storage.tallies`)."""

    __tablename__ = "subject_counts"

    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class SubjectReadList(Base):
    """Who was in one batch of a file recorded under a batch reference (an audience export,
    a release, an API pull of an audience): the subject ids, newline-separated and
    zlib-compressed. Its audit entry (`subject.contacts.read`) names the list and the
    SHA-256 of the uncompressed ids, so the chain holds a reference and a digest instead
    of a thousand ids, and an altered list no longer matches its entry."""

    __tablename__ = "subject_read_lists"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    reference: Mapped[str] = mapped_column(String(100))
    """The batch reference of the file: `copy:<id>`, `disclosure:<id>`, `pull:<id>`."""
    count: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(80))
    """`sha256:<hex>` of the ids joined by newlines (UTF-8), as in the audit entry."""
    members: Mapped[bytes] = mapped_column(Bytes)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_subject_read_lists_reference", "reference"),)
