"""The staff-access domain: session clean-up, the second-factor and password checks, and
the console's API tokens page."""

from __future__ import annotations

from ehrlich.admin.nav import ADMINISTRATION, NavEntry
from ehrlich.auth import posture, tasks
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_console_page("ehrlich.auth.token_routes:router", NavEntry(
        "/admin/tokens", N_("API tokens"), Permission.TOKENS_MANAGE, ADMINISTRATION))
    registry.add_jobs(tasks.register)
    registry.add_check(posture.second_factor)
    registry.add_check(posture.initial_passwords)
