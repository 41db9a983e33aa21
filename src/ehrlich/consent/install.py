"""The consent domain: unsubscribe, signup and preference pages, the consent and signup
API, the console's consent page, its periodic jobs, the unsubscribe-mailbox check, the
suppression of erased addresses, the send-time consent check and the templates of its pages."""

from __future__ import annotations

from ehrlich.admin.nav import PEOPLE, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.consent import tasks
from ehrlich.consent.ledger.actions import consent_still_holds
from ehrlich.consent.ledger.erasure import on_erasure
from ehrlich.consent.unsubscribe import posture
from ehrlich.i18n import N_
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    for router in ("routes:pages", "routes:api", "routes:subject_api", "routes:audience_api",
                   "signup_pages:router", "preference_pages:router", "signup_api:router"):
        registry.add_router(f"ehrlich.consent.web.{router}")
    registry.add_console_page("ehrlich.consent.web.console:router", NavEntry(
        "/admin/consents", N_("Consent"), Permission.AUDIT_READ, PEOPLE))
    registry.add_jobs(tasks.register)
    registry.add_check(posture.unsubscribe_mailbox)
    registry.add_erasure_hook(on_erasure)
    registry.add_send_check(consent_still_holds)
    registry.add_templates("ehrlich.consent.web")
