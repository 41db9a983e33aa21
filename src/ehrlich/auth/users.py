"""Staff accounts: creation, listing, disabling, password and second-factor resets,
TOTP enrolment with recovery codes. The TOTP secret is sealed under the KEK with
a FieldContext naming its row, so it cannot be moved to another account."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth import totp
from ehrlich.auth.models import StaffRecoveryCode, StaffSession, StaffUser
from ehrlich.auth.passwords import Passwords, check_policy
from ehrlich.auth.roles import OWNER_ONLY_TARGETS, Permission, Role, parse_role, require
from ehrlich.crypto import FieldContext, Keyring
from ehrlich.crypto.digests import sha256
from ehrlich.crypto.envelope import read_header
from ehrlich.errors import Conflict, InvalidInput, NotAllowed, NotFound
from ehrlich.storage.base import new_id
from ehrlich.subjects.normalize import normalise_email

RECOVERY_CODES = 10
STAFF = "staff:"  # how the audit chain, notes and copies name a staff member
ISSUER = "ehrlich"


@dataclass(frozen=True)
class StaffView:
    id: str
    email: str
    role: str
    second_factor: bool
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str

    @property
    def qr_svg(self) -> str:
        """The QR code of `uri`, drawn when the enrolment page shows it."""
        return totp.qr_svg(self.uri)


def _view(user: StaffUser) -> StaffView:
    return StaffView(user.id, user.email, user.role, user.totp_secret_ct is not None,
                     user.disabled_at is not None, user.created_at)


def generate_password() -> str:
    """A random initial password (~120 bits), shown once."""
    return "-".join(secrets.token_urlsafe(8) for _ in range(3))


def _recovery_code() -> str:
    """120 random bits (above ASVS 6.5.2's 112), so a plain SHA-256 may store it."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode().lower()
    return "-".join(raw[i:i + 4] for i in range(0, 24, 4))


def _normalise_code(code: str) -> bytes:
    return sha256(code.strip().lower().replace("-", "").replace(" ", "").encode())


class StaffUsers:
    def __init__(self, keyring: Keyring, audit: AuditLog, passwords: Passwords, *,
                 initial_password_lifetime: timedelta = timedelta(hours=72)) -> None:
        self._keyring = keyring
        self._audit = audit
        self.passwords = passwords
        self.initial_password_lifetime = initial_password_lifetime

    # -- sealing -----------------------------------------------------------------

    def _context(self, user_id: str, field: str) -> FieldContext:
        return FieldContext(table="staff_users", field=field, record_id=user_id,
                            subject_id=user_id)

    def seal_secret(self, user_id: str, secret: str, *, field: str = "totp_secret") -> bytes:
        return self._keyring.provider.wrap(secret.encode(), context=self._context(user_id, field))

    def open_secret(self, user_id: str, blob: bytes, *, field: str = "totp_secret") -> str:
        return self._keyring.provider.unwrap(blob, context=self._context(user_id, field)).decode()

    def sealed_by_kek_version(self, session: Session) -> dict[int, int]:
        blobs = session.execute(select(StaffUser.totp_secret_ct).where(
            StaffUser.totp_secret_ct.is_not(None))).scalars()
        counts: dict[int, int] = {}
        for blob in blobs:
            if blob is None:
                continue
            version = read_header(blob).key_version
            counts[version] = counts.get(version, 0) + 1
        return counts

    def reseal_secrets(self, session: Session) -> int:
        """Seal TOTP secrets under the active KEK (part of `ehrlich keys rotate`)."""
        active = self._keyring.provider.active_version
        done = 0
        users = session.execute(select(StaffUser).where(
            StaffUser.totp_secret_ct.is_not(None)).with_for_update()).scalars()
        for user in users:
            blob = user.totp_secret_ct
            if blob is not None and read_header(blob).key_version != active:
                user.totp_secret_ct = self.seal_secret(user.id, self.open_secret(user.id, blob))
                done += 1
        return done

    # -- lookups -----------------------------------------------------------------

    def by_email(self, session: Session, email: str) -> StaffUser | None:
        key = email.strip().lower()
        return session.execute(select(StaffUser).where(StaffUser.email == key)).scalar_one_or_none()

    def emails_of(self, session: Session, actors: Iterable[str]) -> dict[str, str]:
        """The email of each `staff:ID` among `actors` that is still an account, in one
        query, for pages that name who did something (console staff only). Others
        (`system`, `cli`, `token:…`, deleted accounts) are left out: shown as they are."""
        ids = {a.removeprefix(STAFF) for a in actors
               if a.startswith(STAFF) and 0 < len(a) - len(STAFF) <= 36}
        if not ids:
            return {}
        rows = session.execute(select(StaffUser.id, StaffUser.email)
                               .where(StaffUser.id.in_(sorted(ids))))
        return {f"{STAFF}{user_id}": email for user_id, email in rows}

    def actor_named(self, session: Session, text: str) -> str:
        """`staff:ID` for the email of an account, else `text` as given (an actor as the
        audit chain writes it: `staff:ID`, `cli`, `token:ID`…)."""
        if "@" not in text or text.startswith(STAFF):
            return text
        user = self.by_email(session, text)
        if user is None:
            raise InvalidInput.one("actor", "no staff account has this email")
        return f"{STAFF}{user.id}"

    def all_ids(self, session: Session) -> list[str]:
        """Every account's id (for jobs that look at each account)."""
        return list(session.execute(select(StaffUser.id).order_by(StaffUser.id)).scalars())

    def _get(self, session: Session, user: str) -> StaffUser:
        found = session.get(StaffUser, user) or self.by_email(session, user)
        if found is None:
            raise NotFound(f"no staff user {user}")
        return found

    def email_of(self, session: Session, user: str) -> str:
        return self._get(session, user).email

    def list_all(self, session: Session, *, role: Role | str) -> list[StaffView]:
        require(role, Permission.STAFF_MANAGE)
        users = session.execute(select(StaffUser).order_by(StaffUser.created_at)).scalars()
        return [_view(u) for u in users]

    def count_owners(self, session: Session) -> int:
        return int(session.execute(select(func.count()).select_from(StaffUser).where(
            StaffUser.role == Role.OWNER, StaffUser.disabled_at.is_(None))).scalar_one())

    # -- management --------------------------------------------------------------

    def _may_manage(self, actor_role: Role | str, target: Role) -> None:
        require(actor_role, Permission.STAFF_MANAGE)
        if target in OWNER_ONLY_TARGETS and Role(actor_role) != Role.OWNER:
            raise NotAllowed("only an owner may manage owner accounts")

    def add(self, session: Session, *, email: str, role: str, actor: str,
            actor_role: Role | str, now: datetime, password: str | None = None
            ) -> tuple[StaffView, str | None]:
        """Create an account; without a password one is generated and returned once."""
        target = parse_role(role)
        self._may_manage(actor_role, target)
        address = normalise_email(email)
        if self.by_email(session, address) is not None:
            raise Conflict("a staff user with this email exists")
        generated = None
        if password is None:
            password = generated = generate_password()
        else:
            check_policy(password, user_inputs=[address])
        user = StaffUser(id=new_id(), email=address, role=target.value,
                         password_hash=self.passwords.hash(password),
                         must_change_password=generated is not None, totp_last_step=0,
                         initial_password_expires_at=(now + self.initial_password_lifetime
                                                      if generated is not None else None),
                         created_at=now)
        session.add(user)
        session.flush()
        self._audit.record(session, AuditEvent(actor, "staff.add", user.id,
                                                {"role": target.value}), now=now)
        return _view(user), generated

    def owners_awaiting_first_sign_in(self, session: Session, *, now: datetime
                                      ) -> list[tuple[str, bool]]:
        """Active owners still on a generated one-time password: (email, still valid)."""
        rows = session.execute(select(StaffUser).where(
            StaffUser.role == Role.OWNER.value, StaffUser.must_change_password.is_(True),
            StaffUser.disabled_at.is_(None)).order_by(StaffUser.email)).scalars()
        return [(u.email, u.initial_password_expires_at is None
                 or u.initial_password_expires_at > now) for u in rows]

    def _not_oneself(self, found: StaffUser, actor: str, what: str) -> None:
        """One's own account changes under Account, never from the team list."""
        if actor == f"staff:{found.id}":
            raise NotAllowed(f"you cannot {what} your own account here")

    def change_role(self, session: Session, user: str, role: str, *, actor: str,
                    actor_role: Role | str, now: datetime) -> StaffView:
        """A new role; only an owner makes or demotes an owner, and one owner always stays."""
        target = parse_role(role)
        found = self._get(session, user)
        self._not_oneself(found, actor, "change the role of")
        self._may_manage(actor_role, Role(found.role))
        self._may_manage(actor_role, target)
        if found.role == target.value:
            return _view(found)
        if (found.role == Role.OWNER and found.disabled_at is None
                and self.count_owners(session) <= 1):
            raise Conflict("this is the last owner; make another owner first")
        previous, found.role = found.role, target.value
        self._audit.record(session, AuditEvent(actor, "staff.role", found.id,
                                                {"from": previous, "to": target.value}),
                           now=now)
        return _view(found)

    def disable(self, session: Session, user: str, *, actor: str, actor_role: Role | str,
                now: datetime) -> StaffView:
        found = self._get(session, user)
        self._not_oneself(found, actor, "disable")
        self._may_manage(actor_role, Role(found.role))
        last_owner = found.role == Role.OWNER and self.count_owners(session) <= 1
        if last_owner and found.disabled_at is None:
            raise Conflict("this is the last owner; add another owner first")
        found.disabled_at = found.disabled_at or now
        session.execute(delete(StaffSession).where(StaffSession.user_id == found.id))
        self._audit.record(session, AuditEvent(actor, "staff.disable", found.id), now=now)
        return _view(found)

    def reset(self, session: Session, user: str, *, actor: str, actor_role: Role | str,
              now: datetime, second_factor: bool = False) -> str:
        """New one-time password (and optionally drop the second factor); ends sessions."""
        found = self._get(session, user)
        self._not_oneself(found, actor, "reset")
        self._may_manage(actor_role, Role(found.role))
        password = generate_password()
        found.password_hash = self.passwords.hash(password)
        found.must_change_password = True
        found.initial_password_expires_at = now + self.initial_password_lifetime
        found.disabled_at = None
        if second_factor:
            found.totp_secret_ct = None
            session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.user_id == found.id))
        session.execute(delete(StaffSession).where(StaffSession.user_id == found.id))
        self._audit.record(session, AuditEvent(actor, "staff.reset", found.id,
                                                {"second_factor": second_factor}), now=now)
        return password

    def change_password(self, session: Session, user_id: str, new: str, *,
                        now: datetime, keep_session: bytes | None = None) -> None:
        """Set a new password and end every other session of the account."""
        user = self._get(session, user_id)
        check_policy(new, user_inputs=[user.email], field="new_password")
        user.password_hash = self.passwords.hash(new)
        user.must_change_password = False
        user.initial_password_expires_at = None
        others = delete(StaffSession).where(StaffSession.user_id == user.id)
        if keep_session is not None:
            others = others.where(StaffSession.id_hash != keep_session)
        session.execute(others)
        self._audit.record(session, AuditEvent(f"staff:{user.id}", "staff.password_change",
                                                user.id), now=now)

    # -- second factor -----------------------------------------------------------

    def begin_enrolment(self, session: Session, user_id: str, session_row: StaffSession
                        ) -> Enrolment:
        """A new secret, parked (sealed) on the session until a code confirms it."""
        user = self._get(session, user_id)
        if session_row.pending_totp_ct is not None:
            secret = self.open_secret(user.id, session_row.pending_totp_ct, field="pending_totp")
        else:
            secret = totp.new_secret()
            session_row.pending_totp_ct = self.seal_secret(user.id, secret, field="pending_totp")
        uri = totp.provisioning_uri(secret, account=user.email, issuer=ISSUER)
        return Enrolment(secret, uri)

    def confirm_enrolment(self, session: Session, user_id: str, session_row: StaffSession,
                          code: str, *, now: datetime) -> list[str]:
        """Store the second factor once a code proves the app has it; return recovery codes."""
        user = self._get(session, user_id)
        if session_row.pending_totp_ct is None:
            raise InvalidInput.one("code", "start the set-up again")
        secret = self.open_secret(user.id, session_row.pending_totp_ct, field="pending_totp")
        step = totp.matching_step(secret, code, now=now, last_step=0)
        if step is None:
            raise InvalidInput.one("code", "does not match; check the time on your phone")
        user.totp_secret_ct = self.seal_secret(user.id, secret)
        user.totp_last_step = step
        session_row.pending_totp_ct = None
        session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.user_id == user.id))
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        for c in codes:
            session.add(StaffRecoveryCode(code_hash=_normalise_code(c), user_id=user.id))
        self._audit.record(session, AuditEvent(f"staff:{user.id}", "staff.second_factor_enrol",
                                                user.id), now=now)
        return codes

    def check_second_factor(self, session: Session, user: StaffUser, code: str, *,
                            now: datetime) -> bool:
        """A fresh TOTP code (each step once) or an unused recovery code."""
        if user.totp_secret_ct is None:
            return False
        secret = self.open_secret(user.id, user.totp_secret_ct)
        step = totp.matching_step(secret, code, now=now, last_step=user.totp_last_step)
        if step is not None:
            # Conditional update: two processes cannot both accept the same code.
            done = session.execute(update(StaffUser).where(
                StaffUser.id == user.id, StaffUser.totp_last_step < step).values(
                totp_last_step=step))
            return bool(cast("CursorResult[Any]", done).rowcount)
        if len(code.strip()) < 24:
            return False
        used = session.execute(update(StaffRecoveryCode).where(
            StaffRecoveryCode.code_hash == _normalise_code(code),
            StaffRecoveryCode.user_id == user.id,
            StaffRecoveryCode.used_at.is_(None)).values(used_at=now))
        return bool(cast("CursorResult[Any]", used).rowcount)

    def acknowledge_guide(self, session: Session, user_id: str, guide_hash: str, *,
                          now: datetime) -> None:
        user = self._get(session, user_id)
        user.guide_ack_hash, user.guide_ack_at = guide_hash, now
        self._audit.record(session, AuditEvent(f"staff:{user.id}", "staff.guide_ack", user.id,
                                                {"guide": guide_hash[:16]}), now=now)
