"""Console pages for consent proof: a subject's consent history, found by subject id or
email address, and the printable proof of each consent (no personal data: ids, texts,
hashes, networks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.deps import StaffDep
from ehrlich.admin.templating import page
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.consent.ledger.actions import staff_history
from ehrlich.consent.ledger.proof import build_proof
from ehrlich.consent.web.common import proof_context
from ehrlich.errors import InvalidInput, NotFound
from ehrlich.i18n import negotiate, translations
from ehrlich.notices.views import channel_label
from ehrlich.subjects.errors import UnknownEmail
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/consents", include_in_schema=False)
PATH = "/admin/consents"


@router.get("", response_class=HTMLResponse)
def consents(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
             subject: Annotated[str, Query(max_length=320)] = "") -> HTMLResponse:
    require(active.role, Permission.AUDIT_READ)
    tr = translations(negotiate(request))
    context = {"subject": subject, "subject_id": "", "events": []}
    if not subject.strip():
        return page(request, "consent/admin_history.html", context, active=active)
    try:
        with instance.db.write() as session:
            subject_id, events = staff_history(session, instance.subjects, subject,
                                               actor=f"staff:{active.user_id}", now=now)
    except UnknownEmail:
        return page(request, "consent/admin_history.html", context | {
            "message": tr.gettext("No contact has this email address.")}, active=active,
            status_code=404)
    except InvalidInput:
        return page(request, "consent/admin_history.html", context | {
            "message": tr.gettext("This is neither a subject id nor a valid email address.")},
            active=active, status_code=422)
    return page(request, "consent/admin_history.html", context | {
        "subject_id": subject_id, "events": events}, active=active)


@router.get("/proof/{event_id}", response_class=HTMLResponse)
def proof(event_id: str, request: Request, instance: InstanceDep, active: StaffDep
          ) -> HTMLResponse:
    # The proof names no one (ids, texts, hashes, networks): auditors and the staff who
    # see the person's consent timeline may print it.
    if not allowed(active.role, Permission.SUBJECTS_LIST):
        require(active.role, Permission.AUDIT_READ)
    lang = negotiate(request)
    with instance.db.read() as session:
        try:
            found = build_proof(session, event_id[:64])
        except NotFound as exc:
            return page(request, "consent/admin_history.html", {
                "subject": "", "subject_id": "", "events": [], "message": exc.message},
                active=active, status_code=404)
        title = instance.notices.purpose_title(session, found.purpose, lang)
    return page(request, "consent/admin_proof.html", proof_context(
        found, purpose_title=title, channel=channel_label(translations(lang), found.channel)),
        active=active)
