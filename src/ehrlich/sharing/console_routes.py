"""Console pages: Audiences (counts per purpose and channel, export as a tracked copy) and
the Copies register (open, overdue and destroyed copies; "mark destroyed").

Handlers parse the form, call one sharing operation (which checks the role, records the
copy and audits), and render or stream."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.admin.texts import FORM_EXPIRED
from ehrlich.auth.roles import Permission, Role, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.errors import FieldProblem, InvalidInput
from ehrlich.i18n import negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.notices.views import channel_label
from ehrlich.sharing.copies import Caller, CopiesService
from ehrlich.sharing.schemas import KIND_AUDIENCE, KINDS, STATUSES, CopyFilters, CopyRequest
from ehrlich.sharing.service import ExportRequest, SharingService
from ehrlich.web.deps import InstanceDep, NowDep

audiences = APIRouter(prefix="/admin/audiences", include_in_schema=False)
copies = APIRouter(prefix="/admin/copies", include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]
Short = Annotated[str, Query(max_length=64)]
NO_STORE = {"cache-control": "no-store"}


def caller_of(active: ActiveSession) -> Caller:
    return Caller(f"staff:{active.user_id}", Role(active.role))


def _errors(exc: InvalidInput) -> dict[str, str]:
    return {p.field.split(".")[-1]: p.reason for p in exc.problems}


def _form_day(instance: Instance, text: str, reason: str, destination: str,
              now: datetime) -> date | None:
    """The "destroy by" day; when it cannot be read, every other field's problem too."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        bad = FieldProblem("expires", "enter a date as YYYY-MM-DD")
    try:
        instance.service(CopiesService).check(CopyRequest(
            KIND_AUDIENCE, "", (), "csv", reason, destination), now=now)
    except InvalidInput as exc:
        raise InvalidInput([*exc.problems, bad]) from None
    raise InvalidInput([bad])


# -- audiences -------------------------------------------------------------------------


def _audiences_page(request: Request, instance: Instance, active: ActiveSession,
                    now: datetime, *, values: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, message: str | None = None,
                    status: int = 200) -> HTMLResponse:
    lang = negotiate(request)
    with instance.db.read() as session:
        counts = instance.service(SharingService).audiences(session, caller_of(active),
                                                            language=lang)
    keep = instance.service(CopiesService).keep_days
    tr = translations(lang)
    return page(request, "sharing/audiences.html", {
        "counts": counts, "channels": {a.channel: channel_label(tr, a.channel) for a in counts},
        "may_export": allowed(active.role, Permission.AUDIENCES_EXPORT),
        "values": values or {}, "errors": errors or {}, "message": message,
        "keep_days": keep, "default_expiry": (now + timedelta(days=keep)).date().isoformat()},
        active=active, status_code=status)


@audiences.get("", response_class=HTMLResponse)
def audience_list(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep
                  ) -> HTMLResponse:
    require(active.role, Permission.AGGREGATES_READ)
    return _audiences_page(request, instance, active, now)


@audiences.post("/export")
def audience_export(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
                    audience: FormStr = "", format: FormStr = "csv", reason: FormStr = "",
                    destination: FormStr = "", expires: FormStr = "", csrf: FormStr = ""
                    ) -> Response:
    require(active.role, Permission.AUDIENCES_EXPORT)
    values = {"audience": audience, "format": format, "reason": reason,
              "destination": destination, "expires": expires}
    if not check_csrf(request, instance, active, csrf):
        return _audiences_page(request, instance, active, now, values=values, status=403,
                               message=translations(negotiate(request)).gettext(FORM_EXPIRED))
    purpose, _, channel = audience.partition("/")
    fmt: Literal["csv", "ndjson"] = "ndjson" if format == "ndjson" else "csv"
    try:
        request_ = ExportRequest(purpose, channel, fmt, reason, destination,
                                 _form_day(instance, expires, reason, destination, now))
        file = instance.service(SharingService).export_audience(request_, caller_of(active),
                                                                now=now)
    except InvalidInput as exc:
        errors = _errors(exc)
        if "purpose" in errors or "channel" in errors:
            errors["audience"] = errors.pop("purpose", "") or errors.pop("channel", "")
        return _audiences_page(request, instance, active, now, values=values, errors=errors,
                               status=422)
    return StreamingResponse(iter(file.body), media_type=file.media_type, headers={
        "content-disposition": f'attachment; filename="{file.filename}"',
        "x-ehrlich-copy": file.copy_id or "", **NO_STORE})


# -- the copies register ---------------------------------------------------------------


@copies.get("", response_class=HTMLResponse)
def copy_list(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
              status: Short = "", kind: Short = "", mine: Short = "",
              offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> HTMLResponse:
    caller = caller_of(active)
    filters = CopyFilters(status=next((s for s in STATUSES if s == status), None),
                          kind=kind if kind in KINDS else None,
                          holder=caller.actor if mine else None)
    with instance.db.read() as session:
        rows, more = instance.service(CopiesService).page(session, filters, caller, now=now,
                                                          offset=offset)
        emails = instance.staff.users.emails_of(session, {c.holder for c in rows})
    query = {k: v for k, v in {"status": status, "kind": kind, "mine": mine}.items() if v}
    return page(request, "sharing/copies.html", {
        "rows": rows, "query": query, "statuses": STATUSES, "kinds": KINDS,
        "everyone": caller.may(Permission.COPIES_READ), "staff_emails": emails,
        "next_url": f"/admin/copies?{urlencode(query | {'offset': offset + len(rows)})}"
        if more else None,
        "first_url": f"/admin/copies?{urlencode(query)}" if offset else None},
        active=active)


def _copy_page(request: Request, instance: Instance, active: ActiveSession, now: datetime,
               copy_id: str, *, flash: str | None = None, message: str | None = None,
               note: str = "", status: int = 200) -> HTMLResponse:
    caller = caller_of(active)
    with instance.db.read() as session:
        view = instance.service(CopiesService).get(session, copy_id, caller, now=now)
        emails = instance.staff.users.emails_of(
            session, {view.holder, view.destroyed_by or view.holder})
    may_destroy = view.destroyed_at is None and (
        view.holder == caller.actor or caller.may(Permission.COPIES_DESTROY))
    return page(request, "sharing/copy.html", {
        "copy": view, "may_destroy": may_destroy, "flash": flash, "message": message,
        "note": note, "mine": view.holder == caller.actor, "staff_emails": emails},
        active=active, status_code=status)


@copies.get("/{copy_id}", response_class=HTMLResponse)
def copy_detail(copy_id: str, request: Request, instance: InstanceDep, now: NowDep,
                active: StaffDep, done: Annotated[str, Query(max_length=20)] = ""
                ) -> HTMLResponse:
    flash = (translations(negotiate(request)).gettext("The copy is recorded as destroyed.")
             if done == "destroyed" else None)
    return _copy_page(request, instance, active, now, copy_id[:64], flash=flash)


@copies.post("/{copy_id}/destroy", response_class=HTMLResponse)
def copy_destroy(copy_id: str, request: Request, instance: InstanceDep, now: NowDep,
                 active: StaffDep, note: FormStr = "", csrf: FormStr = "") -> Response:
    copy_id = copy_id[:64]
    if not check_csrf(request, instance, active, csrf):
        return _copy_page(request, instance, active, now, copy_id, note=note, status=403,
                          message=translations(negotiate(request)).gettext(FORM_EXPIRED))
    with instance.db.write() as session:
        instance.service(CopiesService).destroy(session, copy_id, caller_of(active),
                                                note=note, now=now)
    return RedirectResponse(f"/admin/copies/{copy_id}?done=destroyed", status_code=303)
