"""Console pages for consent proof: a subject's consent history and the printable proof
of each consent (no personal data: ids, texts, hashes, networks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.deps import StaffDep
from ehrlich.admin.templating import page
from ehrlich.auth.roles import Permission, require
from ehrlich.consent.proof import build_proof
from ehrlich.consent.service import history
from ehrlich.errors import NotFound
from ehrlich.web.deps import InstanceDep

router = APIRouter(prefix="/admin/consents", include_in_schema=False)
PATH = "/admin/consents"


@router.get("", response_class=HTMLResponse)
def consents(request: Request, instance: InstanceDep, active: StaffDep,
             subject: Annotated[str, Query(max_length=36)] = "") -> HTMLResponse:
    require(active.role, Permission.AUDIT_READ)
    events = []
    if subject:
        with instance.db.read() as session:
            events = history(session, subject)
    return page(request, "consent/admin_history.html", {"subject": subject, "events": events},
                active=active)


@router.get("/proof/{event_id}", response_class=HTMLResponse)
def proof(event_id: str, request: Request, instance: InstanceDep, active: StaffDep
          ) -> HTMLResponse:
    require(active.role, Permission.AUDIT_READ)
    with instance.db.read() as session:
        try:
            found = build_proof(session, event_id[:64])
        except NotFound as exc:
            return page(request, "consent/admin_history.html", {
                "subject": "", "events": [], "message": exc.message}, active=active,
                status_code=404)
    return page(request, "consent/admin_proof.html", {"proof": found}, active=active)
