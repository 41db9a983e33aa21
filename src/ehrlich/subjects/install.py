"""The subjects domain: the people API, the console's contacts pages (with their
templates) and the background erasure job."""

from __future__ import annotations

from ehrlich.admin.nav import PEOPLE, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.registry import Registry
from ehrlich.subjects import posture, tasks


def install(registry: Registry) -> None:
    registry.add_router("ehrlich.subjects.routes:router")
    registry.add_console_page("ehrlich.subjects.console_routes:router", NavEntry(
        "/admin/contacts", N_("Contacts"), Permission.SUBJECTS_LIST, PEOPLE))
    registry.add_templates("ehrlich.subjects")
    registry.add_jobs(tasks.register)
    registry.add_check(posture.erasure_ledger)
