"""Staff roles and the permission matrix, enforced by the services (not only by pages)."""

from __future__ import annotations

import logging
from enum import StrEnum

from ehrlich.errors import NotAllowed
from ehrlich.i18n import N_

log = logging.getLogger("ehrlich.security")


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MARKETER = "marketer"
    SUPPORT = "support"
    AUDITOR = "auditor"


ROLE_LABELS: dict[str, str] = {
    Role.OWNER: N_("Owner"), Role.ADMIN: N_("Administrator"), Role.MARKETER: N_("Marketer"),
    Role.SUPPORT: N_("Support"), Role.AUDITOR: N_("Auditor")}
"""How the console names each role (translated where it is shown)."""


class Permission(StrEnum):
    SUBJECTS_CREATE = "subjects.create"
    SUBJECTS_LIST = "subjects.list"          # find and list contacts, values masked
    SUBJECTS_IMPORT = "subjects.import"
    SUBJECTS_REVEAL = "subjects.reveal"      # decrypt a contact's data (with a reason)
    SUBJECTS_RECTIFY = "subjects.rectify"
    SUBJECTS_ERASE = "subjects.erase"
    SUBJECTS_EXPORT = "subjects.export"      # a person's data as a file: a tracked copy
    SUBJECTS_NOTE = "subjects.note"          # add a staff note to a person
    AGGREGATES_READ = "aggregates.read"      # counts, consent rates, audiences
    AUDIT_READ = "audit.read"
    POSTURE_READ = "posture.read"
    STAFF_MANAGE = "staff.manage"
    NOTICE_READ = "notice.read"              # published versions, diffs, the embed snippet
    NOTICE_EDIT = "notice.edit"              # the draft, publishing, the public branding
    BACKUP_RUN = "backup.run"                # start a backup or a verification now
    TOKENS_MANAGE = "tokens.manage"          # create and revoke API tokens
    SETTINGS_READ = "settings.read"          # the effective settings, secrets masked
    REQUESTS_READ = "requests.read"          # the data-request queue and its deadlines
    REQUESTS_MANAGE = "requests.manage"      # record, extend, fulfil and close requests
    CAMPAIGNS_EDIT = "campaigns.edit"        # write campaigns, preview them, test sends
    CAMPAIGNS_SEND = "campaigns.send"        # send, schedule, pause, resume, cancel
    AUDIENCES_EXPORT = "audiences.export"    # an audience's addresses as a file: a tracked copy
    COPIES_READ = "copies.read"              # the register of every copy handed to staff
    COPIES_DESTROY = "copies.destroy"        # confirm anyone's copy destroyed (own: any role)
    BREACHES_READ = "breaches.read"          # the breach register and its 72-hour clock
    BREACHES_MANAGE = "breaches.manage"      # open, scope, update and close breaches


_EVERYTHING = frozenset(Permission)
MATRIX: dict[Role, frozenset[Permission]] = {
    Role.OWNER: _EVERYTHING,
    Role.ADMIN: _EVERYTHING,
    Role.MARKETER: frozenset({Permission.AGGREGATES_READ, Permission.SUBJECTS_IMPORT,
                              Permission.CAMPAIGNS_EDIT, Permission.CAMPAIGNS_SEND,
                              Permission.AUDIENCES_EXPORT}),
    Role.SUPPORT: frozenset({Permission.SUBJECTS_CREATE, Permission.SUBJECTS_LIST,
                             Permission.SUBJECTS_REVEAL, Permission.SUBJECTS_RECTIFY,
                             Permission.SUBJECTS_NOTE, Permission.AGGREGATES_READ,
                             Permission.REQUESTS_READ, Permission.REQUESTS_MANAGE}),
    Role.AUDITOR: frozenset({Permission.AUDIT_READ, Permission.POSTURE_READ,
                             Permission.NOTICE_READ, Permission.SETTINGS_READ,
                             Permission.REQUESTS_READ, Permission.COPIES_READ,
                             Permission.BREACHES_READ}),
}
# Every role needs a second factor by default (`second_factor_for_all_roles`); these
# need it even where an owner relaxed that.
SECOND_FACTOR_ALWAYS = frozenset({Role.OWNER, Role.ADMIN})
# Only an owner may create, change or disable another owner.
OWNER_ONLY_TARGETS = frozenset({Role.OWNER})


def parse_role(value: str, *, field: str = "role") -> Role:
    from ehrlich.errors import InvalidInput

    try:
        return Role(value)
    except ValueError:
        raise InvalidInput.one(field, f"must be one of {', '.join(r.value for r in Role)}"
                               ) from None


def allowed(role: Role | str, permission: Permission) -> bool:
    return permission in MATRIX.get(Role(role), frozenset())


def require(role: Role | str, permission: Permission) -> None:
    if not allowed(role, permission):
        log.warning("authorisation refused: role=%s permission=%s", Role(role).value,
                    permission.value)
        raise NotAllowed(f"the {Role(role).value} role may not {permission.value}")
