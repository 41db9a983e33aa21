"""The mailroom domain: the console's Mail page and the checks that mail is on and
names its sender."""

from __future__ import annotations

from ehrlich.admin.nav import ADMINISTRATION, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.mailroom import posture
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_console_page("ehrlich.mailroom.routes:router", NavEntry(
        "/admin/mail", N_("Mail"), Permission.POSTURE_READ, ADMINISTRATION))
    registry.add_check(posture.smtp)
    registry.add_check(posture.sender_name)
