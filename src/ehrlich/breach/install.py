"""The breach domain: the breach register (GDPR Art. 33/34) with its console pages, the
72-hour clock on the console's overview, `ehrlich breach` and the `doctor` check."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ehrlich.admin.cards import OverviewCard, ServiceLookup
from ehrlich.admin.nav import PRIVACY, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.breach import cli, posture
from ehrlich.breach.schemas import BreachView
from ehrlich.breach.service import BreachService
from ehrlich.i18n import N_
from ehrlich.notices.service import NoticesService
from ehrlich.registry import Registry, Services


def install(registry: Registry) -> None:
    registry.add_service(BreachService, _build)
    registry.add_console_page("ehrlich.breach.console_routes:router", NavEntry(
        "/admin/breaches", N_("Breaches"), Permission.BREACHES_READ, PRIVACY))
    registry.add_overview_card(OverviewCard("breach/_card.html", Permission.BREACHES_READ,
                                            open_on_overview))
    registry.add_templates("ehrlich.breach")
    registry.add_check(posture.breach_clock)
    registry.add_cli_group("breach", cli.app)


def _build(services: Services) -> BreachService:
    return BreachService(services.audit, services.get(NoticesService),
                         services.subjects.read_list)


def open_on_overview(instance: ServiceLookup, session: Session, _now: datetime
                     ) -> list[BreachView] | None:
    """The open breaches, oldest first, each with its clock; nothing when none is open."""
    return instance.service(BreachService).open_breaches(session) or None
