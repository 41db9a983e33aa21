"""The imports domain: its service, the console's Import pages and the import job."""

from __future__ import annotations

from ehrlich.admin.nav import PEOPLE, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.consent.signup.service import SignupService
from ehrlich.i18n import N_
from ehrlich.imports import tasks
from ehrlich.imports.service import ImportsService
from ehrlich.notices.service import NoticesService
from ehrlich.registry import Registry, Services


def install(registry: Registry) -> None:
    registry.add_console_page("ehrlich.imports.console_routes:router", NavEntry(
        "/admin/imports", N_("Import"), Permission.SUBJECTS_IMPORT, PEOPLE))
    registry.add_jobs(tasks.register)
    registry.add_service(ImportsService, _build)


def _build(services: Services) -> ImportsService:
    return ImportsService(services.keyring, services.audit, services.subjects,
                          services.get(NoticesService), services.get(SignupService),
                          data_dir=services.settings.data_dir)
