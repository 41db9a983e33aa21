"""The campaigns domain: its service, the console's Campaigns pages, the `ehrlich
campaign` commands and the sending jobs."""

from __future__ import annotations

from ehrlich.admin.nav import MARKETING, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.campaigns import cli, posture, tasks
from ehrlich.campaigns.service import CampaignsService
from ehrlich.i18n import N_
from ehrlich.notices.service import NoticesService
from ehrlich.registry import Registry, Services


def install(registry: Registry) -> None:
    registry.add_console_page("ehrlich.campaigns.console_routes:router", NavEntry(
        "/admin/campaigns", N_("Campaigns"), Permission.CAMPAIGNS_EDIT, MARKETING))
    registry.add_router("ehrlich.campaigns.routes:router")
    registry.add_router("ehrlich.campaigns.routes:webhooks")
    registry.add_jobs(tasks.register)
    registry.add_cli_group("campaign", cli.app)
    registry.add_templates("ehrlich.campaigns")
    registry.add_service(CampaignsService, _build)
    registry.add_check(posture.bounces)


def _build(services: Services) -> CampaignsService:
    return CampaignsService(services.settings, services.keyring, services.audit,
                            services.subjects, services.jobs, services.get(NoticesService))
