"""The sharing domain: its services (the copies register, audience exports and releases to
recipients), the recipients' API pull, the console's Audiences and Copies pages, the
`copies` and `export` commands and the overdue-copies posture check."""

from __future__ import annotations

from ehrlich.admin.nav import NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.notices.service import NoticesService
from ehrlich.registry import Registry, Services
from ehrlich.sharing import commands, posture
from ehrlich.sharing.copies import CopiesService, due_on_erasure
from ehrlich.sharing.service import SharingService


def install(registry: Registry) -> None:
    registry.add_service(CopiesService, _copies)
    registry.add_service(SharingService, _sharing)
    registry.add_router("ehrlich.sharing.routes:router")
    registry.add_console_page("ehrlich.sharing.console_routes:audiences", NavEntry(
        "/admin/audiences", N_("Audiences"), Permission.AGGREGATES_READ))
    registry.add_console_page("ehrlich.sharing.console_routes:copies", NavEntry(
        "/admin/copies", N_("Copies")))
    registry.add_templates("ehrlich.sharing")
    registry.add_check(posture.overdue_copies)
    registry.add_erasure_hook(due_on_erasure)
    registry.add_cli_group("copies", commands.copies)
    registry.add_cli_group("export", commands.export)


def _copies(services: Services) -> CopiesService:
    return CopiesService(services.audit, keep_days=services.settings.copy_keep_days)


def _sharing(services: Services) -> SharingService:
    return SharingService(services.settings, services.db, services.keyring, services.audit,
                          services.subjects, services.get(NoticesService),
                          services.get(CopiesService))
