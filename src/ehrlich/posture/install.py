"""The posture domain's own checks (keys, secrets, HTTPS, proxies, the audit chain and the
job worker) and the console's read-only Settings page."""

from __future__ import annotations

from ehrlich.admin.nav import ADMINISTRATION, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.posture import checks
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    for check in (checks.key_file, checks.default_secrets, checks.https, checks.trusted_proxies,
                  checks.audit_chain, checks.job_worker):
        registry.add_check(check)
    registry.add_console_page("ehrlich.posture.settings_routes:router", NavEntry(
        "/admin/settings", N_("Settings"),
        Permission.SETTINGS_READ, ADMINISTRATION))
