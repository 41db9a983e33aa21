"""Staff access, assembled: accounts, sign-in, sessions, throttling, the CAPTCHA.

Built once per process by the instance; routes and commands call into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth.login import Login
from ehrlich.auth.models import StaffUser
from ehrlich.auth.passwords import Passwords
from ehrlich.auth.roles import SECOND_FACTOR_REQUIRED, Permission, Role, require
from ehrlich.auth.sessions import ActiveSession, SessionPolicy, Sessions
from ehrlich.auth.staff_subjects import StaffSubjects
from ehrlich.auth.throttle import Throttle, ThrottlePolicy
from ehrlich.auth.users import StaffUsers
from ehrlich.captcha.service import CaptchaPolicy, CaptchaService
from ehrlich.counters.stores import open_store
from ehrlich.crypto import Keyring
from ehrlich.settings import Settings
from ehrlich.storage.database import Database
from ehrlich.subjects.service import SubjectsService


@dataclass(frozen=True)
class StaffPolicies:
    throttle: ThrottlePolicy
    sessions: SessionPolicy
    captcha: CaptchaPolicy
    second_factor_roles: frozenset[Role] = SECOND_FACTOR_REQUIRED
    initial_password_lifetime: timedelta = timedelta(hours=72)


class StaffService:
    def __init__(self, db: Database, keyring: Keyring, audit: AuditLog,
                 subjects: SubjectsService, *, policies: StaffPolicies,
                 redis_url: str | None, redis_prefix: str) -> None:
        self._audit = audit
        self._subjects = subjects
        store = open_store(db, redis_url=redis_url, prefix=redis_prefix)
        self.users = StaffUsers(keyring, audit, Passwords(),
                                initial_password_lifetime=policies.initial_password_lifetime)
        self.sessions = Sessions(policies.sessions, csrf_key=keyring.token_key("csrf"))
        self.captcha = CaptchaService(store, secret=keyring.token_key("altcha"),
                                      policy=policies.captcha)
        throttle = Throttle(store, policies.throttle, key=keyring.token_key("throttle"))
        self.login = Login(keyring=keyring, audit=audit, users=self.users,
                           sessions=self.sessions, throttle=throttle, captcha=self.captcha,
                           second_factor_roles=policies.second_factor_roles)

    def subjects_for(self, active: ActiveSession) -> StaffSubjects:
        """The subjects service, checked against this staff member's role."""
        return StaffSubjects(self._subjects, self._audit, user_id=active.user_id,
                             role=Role(active.role))

    def reauthenticate(self, session: Session, token: str, *, password: str, code: str,
                       now: datetime, password_only: bool = False) -> str | None:
        """Confirm the password (and code, where set up) again: the rotated session token,
        or None when either is wrong (the failure is audited)."""
        active = self.sessions.load(session, token, now=now)
        user = session.get(StaffUser, active.user_id)
        assert user is not None
        ok = self.users.passwords.verify(user.password_hash, password)
        if ok and user.totp_secret_ct is not None and not password_only:
            ok = self.users.check_second_factor(session, user, code, now=now)
        if not ok:
            self._audit.record(session, AuditEvent(f"staff:{user.id}", "staff.reauth_failed",
                                                   user.id), now=now)
            return None
        self._audit.record(session, AuditEvent(f"staff:{user.id}", "staff.reauth", user.id),
                           now=now)
        return self.sessions.rotate(session, token, stage=active.stage, now=now,
                                    reauthenticated=True)


    def overview(self, session: Session, active: ActiveSession) -> dict[str, int]:
        """Counts for the dashboard (aggregates only; needs the aggregates permission)."""
        require(active.role, Permission.AGGREGATES_READ)
        states = self._subjects.count_by_state(session)
        staff_count = session.execute(select(func.count()).select_from(StaffUser).where(
            StaffUser.disabled_at.is_(None))).scalar_one()
        return {"subjects_active": states.get("active", 0),
                "subjects_erased": states.get("erased", 0), "staff_active": int(staff_count)}

def staff_policies(settings: Settings) -> StaffPolicies:
    window = settings.login_window_seconds
    return StaffPolicies(
        throttle=ThrottlePolicy(window_seconds=window,
                                captcha_after_account=settings.captcha_after_failures),
        sessions=SessionPolicy(idle_seconds=settings.session_idle_minutes * 60,
                               absolute_seconds=settings.session_absolute_hours * 3600),
        captcha=CaptchaPolicy(base_max_number=settings.captcha_base_number),
        second_factor_roles=frozenset(Role) if settings.second_factor_for_all_roles
        else SECOND_FACTOR_REQUIRED,
        initial_password_lifetime=timedelta(hours=settings.initial_password_hours),
    )


def create_owner(instance_db: Database, staff: StaffService, *, email: str,
                 now: datetime) -> str:
    """The first owner account, made by `ehrlich init`; returns its one-time password."""
    with instance_db.write() as session:
        _, password = staff.users.add(session, email=email, role=Role.OWNER, actor="cli:init",
                                      actor_role=Role.OWNER, now=now)
    assert password is not None
    return password

