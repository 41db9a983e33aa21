"""Posture checks of staff access (registered in `ehrlich.auth.install`)."""

from __future__ import annotations

from sqlalchemy import select

from ehrlich.auth.models import StaffUser
from ehrlich.auth.roles import Role
from ehrlich.i18n import N_, NP_
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


def _active_staff(ctx: PostureContext) -> list[StaffUser]:
    with ctx.instance.db.read() as session:
        return list(session.execute(
            select(StaffUser).where(StaffUser.disabled_at.is_(None))).scalars())


@check("auth.second_factor", N_("Every staff account has a second factor"))
def second_factor(ctx: PostureContext) -> Finding:
    staff = _active_staff(ctx)
    if not any(u.role == Role.OWNER for u in staff):
        return Finding(Status.FAIL, N_("there is no owner account"),
                       N_("create one: ehrlich user add --role owner you@example.org"))
    required = ctx.instance.staff.login.second_factor_roles
    missing = [u.email for u in staff
               if Role(u.role) in required and u.totp_secret_ct is None]
    if missing:
        return Finding(Status.FAIL, NP_("{count} account without the required second factor: "
                           "{emails}", "{count} accounts without the required second "
                           "factor: {emails}"),
                       N_("sign in at /admin: the console asks them to set up an authenticator "
                          "app before anything else"),
                       {"count": len(missing), "emails": ", ".join(sorted(missing))})
    relaxed = [r.value for r in Role if r not in required]
    if relaxed:
        return Finding(Status.WARN, NP_("the {roles} role may sign in with a password alone, "
                           "though every role can read personal data",
                           "the {roles} roles may sign in with a password alone, "
                           "though every role can read personal data"),
                       N_("set second_factor_for_all_roles = true in ehrlich.toml (the default)"),
                       {"roles": ", ".join(relaxed), "count": len(relaxed)})
    return Finding(Status.PASS, NP_("{count} active staff account, every role uses TOTP",
                       "{count} active staff accounts, every role uses TOTP"),
                   params={"count": len(staff)})


@check("auth.initial_passwords", N_("No account still uses its initial password"))
def initial_passwords(ctx: PostureContext) -> Finding:
    pending = sorted(u.email for u in _active_staff(ctx) if u.must_change_password)
    if pending:
        return Finding(Status.WARN, N_("still on the one-time password given when the account "
                          "was made: {emails}"),
                       N_("sign in and choose a new password under Account"),
                       {"emails": ", ".join(pending)})
    return Finding(Status.PASS, N_("every account has chosen its own password"))
