"""The public `/security` page: how people's data is protected and how to recognise
genuine mail from the organisation (English and German)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ehrlich.i18n import N_, negotiate
from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)

TITLE = N_("How your data is protected")
SECTIONS = [
    (N_("Encrypted, field by field"),
     N_("Your email address, name, phone number and other details are encrypted "
        "before they are stored, each person with their own key. When you ask us to "
        "erase your data, that key is destroyed, so the data can no longer be read "
        "anywhere, backups included.")),
    (N_("Only the staff who need it"),
     N_("Staff sign in with a long password and, for administrators, a code from an "
        "authenticator app. Each role sees only what its work needs; looking at a "
        "person's details requires a stated reason, and every access is recorded in a "
        "tamper-evident log.")),
    (N_("No third parties on our pages"),
     N_("These pages load nothing from other companies: no trackers, no fonts, no "
        "analytics. The check that keeps robots out runs in your own browser.")),
    (N_("How to recognise our mail"),
     N_("Our mail never asks for a password or a payment. Every marketing mail has a "
        "one-click unsubscribe link. If in doubt, open this site yourself instead of "
        "following a link, and manage your preferences there.")),
]


@router.get("/security", response_class=HTMLResponse)
def security(request: Request) -> HTMLResponse:
    return render(request, "security.html", {"lang": negotiate(request), "title": TITLE,
                                             "sections": SECTIONS})
