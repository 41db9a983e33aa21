"""The audit domain: the audit log's API and the console's audit page."""

from __future__ import annotations

from ehrlich.admin.nav import PRIVACY, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_router("ehrlich.audit.routes:router")
    registry.add_console_page("ehrlich.audit.console_routes:router", NavEntry(
        "/admin/audit", N_("Audit log"), Permission.AUDIT_READ, PRIVACY))
