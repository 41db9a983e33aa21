"""The console sign-in: password (with CAPTCHA escalation and delays), then the second factor.

Every evaluated attempt is audited with its outcome; the audit entry names the
account only when it exists and carries the truncated client address, never
the email typed. Attempts refused before evaluation (CAPTCHA unsolved, too
early) are counted and audited once per account and window with the count.
Re-authentication and the password change go through the same gate.
Unknown accounts take the same path and time as wrong passwords, so nothing
tells whether an address has an account.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth.models import StaffUser
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_ENROL, STAGE_FULL, STAGE_MFA, ActiveSession, Sessions
from ehrlich.auth.throttle import Throttle
from ehrlich.auth.users import StaffUsers
from ehrlich.captcha.service import CaptchaService
from ehrlich.crypto import Keyring, TokenInvalid, sign_token, verify_token
from ehrlich.mail.interfaces import MailSender, OutgoingMail
from ehrlich.storage.database import Database

DEVICE_PURPOSE = "staff-device"
DEVICE_TTL_SECONDS = 90 * 24 * 3600
CAPTCHA_PURPOSE = "login"
UNKNOWN_ACCOUNT = "unknown-account"

Outcome = Literal["signed_in", "second_factor", "enrol", "failed", "captcha", "wait", "restart",
                  "initial_password_expired"]


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    session_token: str | None = None
    challenge: dict[str, Any] | None = None
    retry_after: int = 0
    device_cookie: str | None = None


def truncate_address(address: str) -> str:
    """/24 for IPv4, /48 for IPv6: enough for an audit trail, not a person's address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class Login:
    def __init__(self, *, keyring: Keyring, audit: AuditLog, users: StaffUsers,
                 sessions: Sessions, throttle: Throttle, captcha: CaptchaService,
                 second_factor_roles: frozenset[Role] = frozenset(Role)) -> None:
        self._keyring = keyring
        self._audit = audit
        self._users = users
        self._sessions = sessions
        self.throttle = throttle
        self.captcha = captcha
        self.second_factor_roles = second_factor_roles

    # -- trusted devices (OWASP "device cookies") --------------------------------

    def device_cookie(self, user_id: str, *, now: datetime) -> str:
        return sign_token(self._keyring, purpose=DEVICE_PURPOSE, subject=user_id,
                          now=int(now.timestamp()), ttl_seconds=DEVICE_TTL_SECONDS,
                          data={"d": secrets.token_hex(8)})

    def _device(self, cookie: str | None, user_id: str | None, *, now: datetime) -> str | None:
        if not cookie or user_id is None:
            return None
        try:
            claims = verify_token(self._keyring, cookie, purpose=DEVICE_PURPOSE,
                                  now=int(now.timestamp()))
        except TokenInvalid:
            return None
        return str(claims.data.get("d")) if claims.subject == user_id else None

    def challenge_for(self, email: str, address: str, *, now: datetime) -> dict[str, Any]:
        level = self.throttle.current_level(email.strip().lower(), address, now=now)
        return self.captcha.challenge(purpose=CAPTCHA_PURPOSE, level=level, now=now)

    # -- the gate every password check passes ----------------------------------

    def _gate(self, *, account: str, user_email: str | None,
              user_id: str | None, address: str, captcha: str | None, device: str | None,
              mail: MailSender, now: datetime) -> LoginResult | None:
        """Count the attempt; a result when it is refused (CAPTCHA or delay), else None.

        Refused attempts are tallied, not audited one by one: `report_refusals` writes one
        entry per account and window with the count, so an attack costs the audit chain a
        line per window rather than a line per request."""
        level = self.throttle.current_level(account, address, now=now)
        solved = self.captcha.verify(captcha, purpose=CAPTCHA_PURPOSE, min_level=level, now=now)
        verdict = self.throttle.admit(account, address, device=device, captcha_solved=solved,
                                      now=now)
        if user_email is not None and self.throttle.should_notify(
                account, verdict.account_failures, now=now):
            self._notify(mail, user_email, now=now)
        if verdict.captcha_level is not None:
            self.throttle.count_refusal(user_id or UNKNOWN_ACCOUNT, now=now)
            challenge = self.captcha.challenge(purpose=CAPTCHA_PURPOSE,
                                               level=verdict.captcha_level, now=now)
            return LoginResult("captcha", challenge=challenge)
        if verdict.wait_seconds:
            self.throttle.count_refusal(user_id or UNKNOWN_ACCOUNT, now=now)
            return LoginResult("wait", retry_after=verdict.wait_seconds)
        return None

    def report_refusals(self, db: Database, *, now: datetime) -> int:
        """Audit the refused attempts of the last closed window: one entry per account
        (and one for all unknown accounts) with the count. Returns the entries written."""
        with db.read() as session:
            targets = [*self._users.all_ids(session), UNKNOWN_ACCOUNT]
        found = [(t, r) for t in targets
                 if (r := self.throttle.refusals_to_report(t, now=now)) is not None]
        if found:
            with db.write() as session:
                for target, (start, count) in found:
                    self._audit.record(session, AuditEvent(
                        "login", "login.refused", target,
                        {"count": count, "window_start": start.isoformat(),
                         "window_seconds": self.throttle.policy.window_seconds}), now=now)
        return len(found)

    # -- the password step -------------------------------------------------------

    def _audit_attempt(self, db: Database, outcome: str, user_id: str | None, address: str,
                       now: datetime) -> None:
        with db.write() as session:
            self._audit.record(session, AuditEvent(
                "login", f"login.{outcome}", user_id or UNKNOWN_ACCOUNT,
                {"address": truncate_address(address)}), now=now)

    def password(self, db: Database, *, email: str, password: str, address: str,
                 captcha: str | None, device_cookie: str | None, mail: MailSender,
                 now: datetime) -> LoginResult:
        account = email.strip().lower()[:320]
        with db.read() as session:
            user = self._users.by_email(session, account)
            user_id = user.id if user is not None else None
        device = self._device(device_cookie, user_id, now=now)
        refused = self._gate(account=account, user_email=user.email if user else None,
                             user_id=user_id, address=address, captcha=captcha,
                             device=device, mail=mail, now=now)
        if refused is not None:
            return refused
        stored = user.password_hash if user is not None and user.disabled_at is None else None
        if not self._users.passwords.verify(stored, password) or user is None:
            self._audit_attempt(db, "failed", user_id, address, now)
            return LoginResult("failed")
        self.throttle.succeeded(account, address, device=device, now=now)
        expires = user.initial_password_expires_at
        if user.must_change_password and expires is not None and expires <= now:
            # The right password, but a generated one nobody changed in time.
            self._audit_attempt(db, "initial_password_expired", user.id, address, now)
            return LoginResult("initial_password_expired")
        with db.write() as session:
            fresh = session.get(StaffUser, user.id)
            assert fresh is not None
            if stored is not None and self._users.passwords.needs_rehash(stored):
                fresh.password_hash = self._users.passwords.hash(password)
            if fresh.totp_secret_ct is not None:
                stage = STAGE_MFA
            elif Role(fresh.role) in self.second_factor_roles:
                stage = STAGE_ENROL
            else:
                stage = STAGE_FULL
            token = self._sessions.create(session, fresh.id, stage=stage, now=now)
            self._audit.record(session, AuditEvent(
                "login", "login.password_ok", fresh.id,
                {"address": truncate_address(address), "next": stage}), now=now)
        outcome: Outcome = {STAGE_MFA: "second_factor", STAGE_ENROL: "enrol"}.get(
            stage, "signed_in")  # type: ignore[assignment]
        cookie = self.device_cookie(fresh.id, now=now) if stage == STAGE_FULL else None
        return LoginResult(outcome, session_token=token, device_cookie=cookie)

    # -- confirming a signed-in session (re-authentication, password change) -----

    def confirm(self, db: Database, active: ActiveSession, *, password: str, code: str,
                address: str, captcha: str | None, device_cookie: str | None,
                mail: MailSender, now: datetime, password_only: bool = False) -> LoginResult:
        """Check the password (and code, where set up) of a signed-in session again, under
        the sign-in's own counters, CAPTCHA escalation and code-retry rule. `signed_in`
        carries the rotated session token; `restart` means the session was ended."""
        device = self._device(device_cookie, active.user_id, now=now)
        refused = self._gate(account=active.email, user_email=active.email,
                             user_id=active.user_id, address=address, captcha=captcha,
                             device=device, mail=mail, now=now)
        if refused is not None:
            return refused
        actor = f"staff:{active.user_id}"
        with db.write() as session:
            user = session.get(StaffUser, active.user_id)
            assert user is not None
            password_ok = self._users.passwords.verify(user.password_hash, password)
            code_due = password_ok and user.totp_secret_ct is not None and not password_only
            ok = password_ok and (not code_due or self._users.check_second_factor(
                session, user, code, now=now))
            if ok:
                token = self._sessions.rotate(session, active.token, stage=active.stage,
                                              now=now, reauthenticated=True)
            self._audit.record(session, AuditEvent(
                actor, "staff.reauth" if ok else "staff.reauth_failed", user.id,
                {"address": truncate_address(address)}), now=now)
        # Counted outside the transaction: the store may be this same database.
        if password_ok:
            self.throttle.succeeded(active.email, address, device=device, now=now)
        if ok:
            return LoginResult("signed_in", session_token=token)
        if code_due and self.throttle.second_factor_failed(active.user_id, now=now):
            with db.write() as session:
                self._sessions.end(session, active.token)
            return LoginResult("restart")
        return LoginResult("failed")

    def _notify(self, mail: MailSender, to: str, *, now: datetime) -> None:
        mail.send(OutgoingMail(
            to=to, category="security",
            subject="Unusual sign-in attempts on your ehrlich account",
            text=("Many failed sign-in attempts were made on your ehrlich staff account "
                  f"(reported at {now:%Y-%m-%d %H:%M} UTC). Sign-ins now need an extra "
                  "check; your known devices keep working. If this was not you, nothing "
                  "else is needed; if you think your password is known, change it in the "
                  "console. ehrlich never asks for your password or codes by mail.")))

    # -- the second-factor step --------------------------------------------------

    def second_factor(self, db: Database, *, token: str, code: str, address: str,
                      now: datetime) -> LoginResult:
        with db.write() as session:
            active = self._sessions.load(session, token, now=now)
            if active.stage != STAGE_MFA:
                return LoginResult("failed")
            user = session.get(StaffUser, active.user_id)
            assert user is not None
            if self._users.check_second_factor(session, user, code, now=now):
                new_token = self._sessions.rotate(session, token, stage=STAGE_FULL, now=now,
                                                  reauthenticated=True)
                self._audit.record(session, AuditEvent(
                    "login", "login.second_factor_ok", user.id,
                    {"address": truncate_address(address)}), now=now)
                return LoginResult("signed_in", session_token=new_token,
                                   device_cookie=self.device_cookie(user.id, now=now))
            self._audit.record(session, AuditEvent(
                "login", "login.second_factor_failed", user.id,
                {"address": truncate_address(address)}), now=now)
            user_id = user.id
        # Counted outside the transaction: the store may be this same database.
        restart = self.throttle.second_factor_failed(user_id, now=now)
        if restart:
            with db.write() as session:
                self._sessions.end(session, token)
        return LoginResult("restart" if restart else "failed")
