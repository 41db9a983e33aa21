"""The sharing domain: its services (the copies register, audience exports and releases to
recipients, signed webhooks, erasure notifications, processor syncs), the recipients' API
pull, the console's Audiences, Copies, Recipients and Processor sync pages, the `copies`,
`export` and `recipients` commands, its jobs and the overdue-copies posture check."""

from __future__ import annotations

from ehrlich.admin.nav import MARKETING, PRIVACY, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.notices.service import NoticesService
from ehrlich.registry import Registry, Services
from ehrlich.sharing import commands, posture, recipients_cli, tasks
from ehrlich.sharing.copies import CopiesService, due_on_erasure
from ehrlich.sharing.notifications import RecipientNotices, on_erasure, on_rectification
from ehrlich.sharing.processors import ProcessorSyncService
from ehrlich.sharing.service import SharingService
from ehrlich.sharing.webhooks import Webhooks


def install(registry: Registry) -> None:
    registry.add_service(CopiesService, _copies)
    registry.add_service(Webhooks, _webhooks)
    registry.add_service(SharingService, _sharing)
    registry.add_service(RecipientNotices, _notices)
    registry.add_service(ProcessorSyncService, _processors)
    registry.add_jobs(tasks.register)
    registry.add_router("ehrlich.sharing.routes:router")
    registry.add_console_page("ehrlich.sharing.console_routes:audiences", NavEntry(
        "/admin/audiences", N_("Audiences"), Permission.AGGREGATES_READ, MARKETING))
    registry.add_console_page("ehrlich.sharing.console_routes:copies", NavEntry(
        "/admin/copies", N_("Copies"), group=PRIVACY))
    registry.add_console_page("ehrlich.sharing.recipients_routes:router", NavEntry(
        "/admin/recipients", N_("Recipients"), Permission.REQUESTS_READ, PRIVACY))
    registry.add_console_page("ehrlich.sharing.processor_routes:router", NavEntry(
        "/admin/processors", N_("Processor sync"), Permission.AGGREGATES_READ, MARKETING))
    registry.add_templates("ehrlich.sharing")
    registry.add_check(posture.overdue_copies)
    registry.add_erasure_hook(due_on_erasure)
    registry.add_erasure_hook(on_erasure)
    registry.add_rectification_hook(on_rectification)
    registry.add_cli_group("copies", commands.copies)
    registry.add_cli_group("export", commands.export)
    registry.add_cli_group("recipients", recipients_cli.recipients)


def _copies(services: Services) -> CopiesService:
    return CopiesService(services.audit, keep_days=services.settings.copy_keep_days)


def _sharing(services: Services) -> SharingService:
    return SharingService(services.settings, services.db, services.keyring, services.audit,
                          services.subjects, services.get(NoticesService),
                          services.get(CopiesService))


def _webhooks(services: Services) -> Webhooks:
    return Webhooks(services.db, services.keyring, services.audit)


def _notices(services: Services) -> RecipientNotices:
    return RecipientNotices(services.db, services.audit, services.get(Webhooks),
                            services.get(SharingService))


def _processors(services: Services) -> ProcessorSyncService:
    return ProcessorSyncService(services.settings, services.db, services.keyring,
                                services.audit, services.subjects,
                                services.get(SharingService), webhooks=services.get(Webhooks))
