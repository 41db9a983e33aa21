"""Staff access: API tokens, staff users, sessions, recovery codes, throttling state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime, uuid_column_type


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[str] = mapped_column(String(500))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Written at most once a minute per token (see `ApiTokenCache.note_use`).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StaffUser(Base):
    """A person who works in the console. The TOTP secret is sealed under the KEK."""

    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    initial_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(),
                                                                         nullable=True)
    totp_secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    guide_ack_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    guide_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StaffRecoveryCode(Base):
    """One-time recovery codes (SHA-256 of 120 random bits), for a lost second factor."""

    __tablename__ = "staff_recovery_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("staff_users.id"),
                                         index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StaffSession(Base):
    """A console session; the cookie carries the id, the table only its SHA-256."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("staff_users.id"),
                                         index=True)
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pending_totp_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

