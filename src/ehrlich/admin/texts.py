"""Console texts used by more than one page, marked for the catalogue (see ehrlich.i18n)."""

from __future__ import annotations

from starlette.requests import Request

from ehrlich.i18n import N_, negotiate, translations

FORM_EXPIRED = N_("The form expired or came from another site. Reload and try again.")
REAUTH_FAILED = N_("The password or code is not right.")
COUNT_LABELS = {"subjects_active": N_("Contacts"), "subjects_erased": N_("Erased contacts"),
                "staff_active": N_("Staff accounts")}
CAPTCHA_NEEDED = N_("There were many failed sign-ins for this account. Your browser now does "
                    "a short calculation to prove it is not a robot; when it is done, enter "
                    "your password again.")
WAIT = N_("Too many attempts. Wait %(seconds)s seconds, then try again.")


def form_expired(request: Request) -> str:
    """FORM_EXPIRED in the language of `request`: what a page says when its CSRF check fails."""
    return translations(negotiate(request)).gettext(FORM_EXPIRED)
