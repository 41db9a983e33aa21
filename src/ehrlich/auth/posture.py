"""Posture checks of staff access (registered in `ehrlich.auth.install`)."""

from __future__ import annotations

from sqlalchemy import select

from ehrlich.auth.models import StaffUser
from ehrlich.auth.roles import Role
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


def _active_staff(ctx: PostureContext) -> list[StaffUser]:
    with ctx.instance.db.read() as session:
        return list(session.execute(
            select(StaffUser).where(StaffUser.disabled_at.is_(None))).scalars())


@check("auth.second_factor", "Every owner and admin (or everyone, if so set) has a "
       "second factor")
def second_factor(ctx: PostureContext) -> Finding:
    staff = _active_staff(ctx)
    if not any(u.role == Role.OWNER for u in staff):
        return Finding(Status.FAIL, "there is no owner account",
                       "create one: ehrlich user add --role owner you@example.org")
    required = ctx.instance.staff.login.second_factor_roles
    missing = [u.email for u in staff
               if Role(u.role) in required and u.totp_secret_ct is None]
    if missing:
        return Finding(Status.FAIL, f"{len(missing)} account(s) without the required second "
                       f"factor: {', '.join(sorted(missing))}",
                       "sign in at /admin: the console asks them to set up an authenticator "
                       "app before anything else")
    return Finding(Status.PASS, f"{len(staff)} active staff account(s); owners and admins "
                   "use TOTP")


@check("auth.initial_passwords", "No account still uses its initial password")
def initial_passwords(ctx: PostureContext) -> Finding:
    pending = sorted(u.email for u in _active_staff(ctx) if u.must_change_password)
    if pending:
        return Finding(Status.WARN, f"still on the password printed by `ehrlich init` or "
                       f"`ehrlich user`: {', '.join(pending)}",
                       "sign in and choose a new password under Account")
    return Finding(Status.PASS, "every account has chosen its own password")
