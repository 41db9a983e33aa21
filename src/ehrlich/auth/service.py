"""Staff access, assembled: accounts, sign-in, sessions, throttling, the CAPTCHA.

Built once per process by the instance; routes and commands call into it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.auth.login import Login, LoginResult
from ehrlich.auth.models import StaffUser
from ehrlich.auth.passwords import Passwords, check_policy
from ehrlich.auth.roles import SECOND_FACTOR_ALWAYS, Permission, Role, require
from ehrlich.auth.sessions import ActiveSession, SessionPolicy, Sessions, session_hash
from ehrlich.auth.staff_subjects import StaffSubjects
from ehrlich.auth.throttle import Throttle, ThrottlePolicy
from ehrlich.auth.users import StaffUsers
from ehrlich.captcha.service import CaptchaPolicy, CaptchaService
from ehrlich.counters.stores import open_store
from ehrlich.crypto import Keyring
from ehrlich.mail.interfaces import MailSender
from ehrlich.settings import Settings
from ehrlich.storage.database import Database
from ehrlich.subjects.service import SubjectsService


@dataclass(frozen=True)
class StaffPolicies:
    throttle: ThrottlePolicy
    sessions: SessionPolicy
    captcha: CaptchaPolicy
    second_factor_roles: frozenset[Role] = frozenset(Role)
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
        # The top CAPTCHA level is what the owner can afford on a new device.
        top = min(policies.throttle.max_captcha_level, self.captcha.affordable_level())
        throttle = Throttle(store, replace(policies.throttle, max_captcha_level=top),
                            key=keyring.token_key("throttle"))
        self.login = Login(keyring=keyring, audit=audit, users=self.users,
                           sessions=self.sessions, throttle=throttle, captcha=self.captcha,
                           second_factor_roles=policies.second_factor_roles)

    def subjects_for(self, active: ActiveSession) -> StaffSubjects:
        """The subjects service, checked against this staff member's role."""
        return StaffSubjects(self._subjects, self._audit, user_id=active.user_id,
                             role=Role(active.role))

    def change_password(self, db: Database, active: ActiveSession, *, current: str,
                        new: str, address: str, captcha: str | None,
                        device_cookie: str | None, mail: MailSender, now: datetime
                        ) -> LoginResult:
        """Check the new password first, then confirm the current one (throttled, which
        rotates the session), then change it. A refused new password changes nothing,
        so the session cookie the browser holds stays valid."""
        check_policy(new, user_inputs=[active.email], field="new_password")
        result = self.login.confirm(db, active, password=current, code="", address=address,
                                    captcha=captcha, device_cookie=device_cookie, mail=mail,
                                    now=now, password_only=True)
        if result.session_token is not None:
            with db.write() as session:
                self.users.change_password(session, active.user_id, new, now=now,
                                           keep_session=session_hash(result.session_token))
        return result

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
        else SECOND_FACTOR_ALWAYS,
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

