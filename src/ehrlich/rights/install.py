"""The rights domain: `/my-data` for people, the data-request queue for staff (console
pages, `ehrlich requests`, the reminder job), retention (`ehrlich retention run`, the
daily job, the console's Retention page), and their services.

The access report shows a section from every other domain service that
implements `ReportSectionSource` (the disclosure log, for one): they are looked up
when a report is made, so the order of the domains does not matter.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from ehrlich.admin.nav import PEOPLE, PRIVACY, NavEntry
from ehrlich.auth.roles import Permission, Role
from ehrlich.auth.service import StaffService
from ehrlich.counters.stores import open_store
from ehrlich.i18n import N_
from ehrlich.notices.service import NoticesService
from ehrlich.registry import Registry, Services
from ehrlich.rights import cli, retention_cli, tasks
from ehrlich.rights.gate import MAILS_PER_RECIPIENT_PER_DAY, LinkMailLimit, build_gate
from ehrlich.rights.retention import RetentionService
from ehrlich.rights.schemas import ReportSectionSource
from ehrlich.rights.service import RightsService


def install(registry: Registry) -> None:
    registry.add_router("ehrlich.rights.routes:router")
    registry.add_console_page("ehrlich.rights.console_routes:router", NavEntry(
        "/admin/requests", N_("Data requests"), Permission.REQUESTS_READ, PEOPLE))
    registry.add_console_page("ehrlich.rights.retention_routes:router", NavEntry(
        "/admin/retention", N_("Retention"), Permission.POSTURE_READ, PRIVACY))
    registry.add_jobs(tasks.register)
    registry.add_cli_group("requests", cli.app)
    registry.add_cli_group("retention", retention_cli.app)
    registry.add_templates("ehrlich.rights")
    registry.add_service(RightsService, _build)
    registry.add_service(RetentionService, lambda s: RetentionService(
        s.settings, s.subjects, s.get(NoticesService), s.audit))


def _build(services: Services) -> RightsService:
    settings = services.settings
    staff = services.get(StaffService)
    store = open_store(services.db, redis_url=settings.redis_url, prefix=settings.redis_prefix)
    built = services.built  # filled on as later domains' services are built

    def sections() -> Sequence[ReportSectionSource]:
        return [s for s in built.values() if isinstance(s, ReportSectionSource)]

    def owners(session: Session) -> list[str]:
        return [u.email for u in staff.users.list_all(session, role=Role.OWNER)
                if u.role == Role.OWNER and not u.disabled]

    return RightsService(
        settings, services.keyring, services.audit, services.subjects,
        services.get(NoticesService),
        gate=build_gate(settings, services.keyring, store, staff.captcha),
        limit=LinkMailLimit(store, per_day=MAILS_PER_RECIPIENT_PER_DAY),
        sections=sections, owners=owners, jobs=services.jobs)
