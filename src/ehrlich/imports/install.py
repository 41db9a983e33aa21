"""The imports domain: the console's Import pages and the import job."""

from __future__ import annotations

from ehrlich.admin.nav import NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.imports import console_routes, tasks
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_console_page(console_routes.router, NavEntry(
        "/admin/imports", N_("Import"), Permission.SUBJECTS_IMPORT))
    registry.add_jobs(tasks.register)
