"""Console page for the audit chain: entries filtered by actor, action, subject and time,
newest first; verify the whole chain; the current head to keep off this machine."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.admin.texts import form_expired
from ehrlich.audit.search import DETAIL_SHOWN, AuditFilter, AuditPage, search
from ehrlich.audit.service import ChainReport
from ehrlich.auth.roles import Permission, require
from ehrlich.errors import InvalidInput
from ehrlich.web.deps import InstanceDep

router = APIRouter(prefix="/admin/audit", include_in_schema=False)
QueryStr = Annotated[str, Query(max_length=400)]



def _page(request: Request, instance: InstanceDep, active: StaffDep, *,
          form: dict[str, str], where: AuditFilter | None, before: int | None = None,
          errors: dict[str, str] | None = None, chain: ChainReport | None = None,
          flash: str | None = None, status_code: int = 200) -> HTMLResponse:
    with instance.db.read() as session:
        found = (search(session, where, before=before) if where is not None
                 else AuditPage([], None))
        anchor = instance.audit.head(session)
        emails = instance.staff.users.emails_of(session, {e.actor for e in found.entries})
    query = urlencode({k: v for k, v in form.items() if v})
    return page(request, "audit/admin_audit.html", {
        "entries": found.entries, "next_before": found.next_before, "before": before,
        "form": form, "query": query, "errors": errors or {}, "chain": chain,
        "anchor": str(anchor) if anchor.seq else None, "flash": flash,
        "shown": DETAIL_SHOWN, "staff_emails": emails}, active=active, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def audit_page(request: Request, instance: InstanceDep, active: StaffDep,
               actor: QueryStr = "", action: QueryStr = "", target: QueryStr = "",
               since: QueryStr = "", until: QueryStr = "",
               before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None
               ) -> HTMLResponse:
    require(active.role, Permission.AUDIT_READ)
    form = {"actor": actor, "action": action, "target": target, "since": since,
            "until": until}
    try:
        with instance.db.read() as session:  # a staff member's email: the actor they are
            named = instance.staff.users.actor_named(session, actor.strip())
        where = AuditFilter.parse(**(form | {"actor": named}))
    except InvalidInput as exc:
        return _page(request, instance, active, form=form, where=None, status_code=422,
                     errors={p.field: p.reason for p in exc.problems})
    return _page(request, instance, active, form=form, where=where, before=before)


@router.post("/verify", response_class=HTMLResponse)
def verify_chain(request: Request, instance: InstanceDep, active: StaffDep,
                 csrf: Annotated[str, Form(max_length=4096)] = "") -> HTMLResponse:
    """A POST (not a link): it reads the whole chain, so a crawler or prefetch must not."""
    require(active.role, Permission.AUDIT_READ)
    if not check_csrf(request, instance, active, csrf):
        return _page(request, instance, active, form={}, where=AuditFilter(),
                     flash=form_expired(request), status_code=403)
    with instance.db.read() as session:
        report = instance.audit.verify_chain(session)
    return _page(request, instance, active, form={}, where=AuditFilter(), chain=report,
                 status_code=200 if report.ok else 409)
