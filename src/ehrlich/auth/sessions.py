"""Console sessions: 256-bit ids stored hashed, stages, rotation, timeouts, CSRF tokens.

Stages: `mfa` (password accepted, code still due), `enrol` (password accepted,
a second factor must be set up first), `full`. Every stage change issues a
new id (no fixation). Idle and absolute timeouts and the re-authentication
window are checked against the `now` given.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from ehrlich.auth.errors import SessionExpired
from ehrlich.auth.models import StaffSession, StaffUser
from ehrlich.crypto.digests import constant_time_equal, hmac_sha256, sha256

STAGE_MFA = "mfa"
STAGE_ENROL = "enrol"
STAGE_FULL = "full"


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int = 30 * 60
    absolute_seconds: int = 12 * 3600
    reauth_seconds: int = 10 * 60


@dataclass(frozen=True)
class ActiveSession:
    token: str
    user_id: str
    email: str
    role: str
    stage: str
    authenticated_at: datetime
    guide_ack_hash: str | None
    must_change_password: bool = False

    def fresh(self, now: datetime, policy: SessionPolicy) -> bool:
        """Recently authenticated enough for a sensitive action."""
        return now - self.authenticated_at <= timedelta(seconds=policy.reauth_seconds)


@dataclass(frozen=True)
class SessionInfo:
    """One live session as its holder sees it; `ref` names it but cannot act as a cookie."""

    ref: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def session_hash(token: str) -> bytes:
    return sha256(token.encode())


def _hash(token: str) -> bytes:
    return sha256(token.encode())


class Sessions:
    def __init__(self, policy: SessionPolicy, *, csrf_key: bytes) -> None:
        self.policy = policy
        self._csrf_key = csrf_key

    def create(self, session: Session, user_id: str, *, stage: str, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        session.add(StaffSession(id_hash=_hash(token), user_id=user_id, stage=stage,
                                 created_at=now, last_seen_at=now, authenticated_at=now))
        session.flush()
        return token

    def rotate(self, session: Session, token: str, *, stage: str, now: datetime,
               reauthenticated: bool = False) -> str:
        """Replace the session id (at login steps and privilege changes)."""
        old = session.get(StaffSession, _hash(token))
        if old is None:
            raise SessionExpired("the session has ended; sign in again")
        new_token = secrets.token_urlsafe(32)
        session.add(StaffSession(
            id_hash=_hash(new_token), user_id=old.user_id, stage=stage,
            created_at=old.created_at, last_seen_at=now,
            authenticated_at=now if reauthenticated else old.authenticated_at,
            pending_totp_ct=old.pending_totp_ct))
        session.delete(old)
        session.flush()
        return new_token

    def load(self, session: Session, token: str | None, *, now: datetime) -> ActiveSession:
        """The live session for a cookie, or `SessionExpired`; touches the idle clock."""
        if not token or len(token) > 100:
            raise SessionExpired("sign in to continue")
        row = session.get(StaffSession, _hash(token))
        user = session.get(StaffUser, row.user_id) if row is not None else None
        if row is None or user is None or user.disabled_at is not None:
            raise SessionExpired("sign in to continue")
        idle = now - row.last_seen_at > timedelta(seconds=self.policy.idle_seconds)
        too_old = now - row.created_at > timedelta(seconds=self.policy.absolute_seconds)
        if idle or too_old:
            session.delete(row)
            raise SessionExpired("the session has expired; sign in again")
        row.last_seen_at = now
        return ActiveSession(token, user.id, user.email, user.role, row.stage,
                             row.authenticated_at, user.guide_ack_hash,
                             user.must_change_password)

    def end(self, session: Session, token: str | None) -> None:
        if token:
            session.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(token)))

    def purge_expired(self, session: Session, *, now: datetime) -> int:
        """Delete sessions past their idle or absolute limit; returns how many.

        `load` refuses such a session anyway; this keeps the table from holding
        sessions nobody comes back to.
        """
        idle_since = now - timedelta(seconds=self.policy.idle_seconds)
        born_before = now - timedelta(seconds=self.policy.absolute_seconds)
        result = session.execute(delete(StaffSession).where(or_(
            StaffSession.last_seen_at < idle_since, StaffSession.created_at < born_before)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def end_all(self, session: Session, user_id: str) -> None:
        session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))

    def list_for(self, session: Session, user_id: str, *, current_token: str,
                 now: datetime) -> list[SessionInfo]:
        """The account's sessions that have not timed out, newest activity first."""
        idle = now - timedelta(seconds=self.policy.idle_seconds)
        born = now - timedelta(seconds=self.policy.absolute_seconds)
        rows = session.execute(select(StaffSession).where(
            StaffSession.user_id == user_id, StaffSession.last_seen_at >= idle,
            StaffSession.created_at >= born).order_by(StaffSession.last_seen_at.desc())
        ).scalars()
        mine = _hash(current_token)
        return [SessionInfo(r.id_hash.hex(), r.created_at, r.last_seen_at, r.id_hash == mine)
                for r in rows]

    def end_ref(self, session: Session, user_id: str, ref: str) -> None:
        """End one of the account's own sessions, named by its `ref`."""
        try:
            id_hash = bytes.fromhex(ref)
        except ValueError:
            return
        session.execute(delete(StaffSession).where(StaffSession.user_id == user_id,
                                                   StaffSession.id_hash == id_hash))

    def row(self, session: Session, token: str) -> StaffSession | None:
        return session.get(StaffSession, _hash(token))

    def csrf_token(self, token: str) -> str:
        return hmac_sha256(self._csrf_key, token.encode()).hex()

    def check_csrf(self, token: str, given: str | None) -> bool:
        return bool(given) and constant_time_equal(self.csrf_token(token).encode(),
                                                   (given or "").encode())
