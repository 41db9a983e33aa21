"""Console pages of the data-request queue: the list (earliest due first), recording a
request that came by letter, phone or mail, and one request with its actions (extend,
fulfil, close).

Handlers parse the form, call one `RightsService` operation (which checks the role
and audits), and render. Fulfilling an access request mails the person their own
link by default, so staff see nothing; handing the report to staff needs the
export permission, and erasing needs the erase permission and a fresh sign-in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ehrlich.admin.deps import StaffDep, check_csrf, require_fresh
from ehrlich.admin.templating import page
from ehrlich.admin.texts import FORM_EXPIRED
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.errors import Conflict, EhrlichError, Gone, InvalidInput, NotFound
from ehrlich.i18n import negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.rights.report import report_json
from ehrlich.rights.schemas import (
    CHANNEL_LABELS,
    CHANNELS,
    IDENTITY_CHECKS,
    IDENTITY_LABELS,
    KIND_LABELS,
    KINDS,
    STATUS_LABELS,
    STATUSES,
    NewRequest,
)
from ehrlich.rights.service import RightsService
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/requests", include_in_schema=False)
PATH = "/admin/requests"
FormStr = Annotated[str, Form(max_length=4096)]
Short = Annotated[str, Query(max_length=40)]
LABELS = {"kinds_labels": KIND_LABELS, "channels_labels": CHANNEL_LABELS,
          "checks_labels": IDENTITY_LABELS, "statuses_labels": STATUS_LABELS}


def _rights(instance: Instance) -> RightsService:
    return instance.service(RightsService)


def _actor(active: ActiveSession) -> str:
    return f"staff:{active.user_id}"


def _expired(request: Request) -> str:
    return translations(negotiate(request)).gettext(FORM_EXPIRED)


@router.get("", response_class=HTMLResponse)
def requests_list(request: Request, instance: InstanceDep, active: StaffDep, now: NowDep,
                  status: Short = "open", kind: Short = "",
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> HTMLResponse:
    require(active.role, Permission.REQUESTS_READ)
    status = status if status in (*STATUSES, "open", "all") else "open"
    kind = kind if kind in KINDS else ""
    rows, total = _rights(instance).listing(
        instance.db, role=active.role, status=None if status == "all" else status,
        kind=kind or None, offset=offset)
    return page(request, "rights/admin_list.html", {
        "rows": rows, "total": total, "status": status, "kind": kind, "offset": offset,
        "page_size": 50, "now": now, "kinds": KINDS, "statuses": STATUSES, **LABELS,
        "may_manage": allowed(active.role, Permission.REQUESTS_MANAGE)}, active=active)


def _new_page(request: Request, active: ActiveSession, *, values: dict[str, str] | None = None,
              errors: dict[str, str] | None = None, message: str | None = None,
              status: int = 200) -> HTMLResponse:
    return page(request, "rights/admin_new.html", {
        "values": values or {}, "errors": errors or {}, "message": message, "kinds": KINDS,
        "channels": [c for c in CHANNELS if c != "self-service"],
        "checks": IDENTITY_CHECKS, **LABELS}, active=active, status_code=status)


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.REQUESTS_MANAGE)
    return _new_page(request, active)


def _received(text: str, now: datetime) -> datetime:
    if not text.strip():
        return now
    try:
        day = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput.one("received", "enter a date as YYYY-MM-DD") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


@router.post("", response_class=HTMLResponse)
def record(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
           kind: FormStr = "", channel: FormStr = "", identity_check: FormStr = "",
           received: FormStr = "", email: FormStr = "", csrf: FormStr = "") -> Response:
    require(active.role, Permission.REQUESTS_MANAGE)
    values = {"kind": kind, "channel": channel, "identity_check": identity_check,
              "received": received, "email": email}
    if not check_csrf(request, instance, active, csrf):
        return _new_page(request, active, values=values, message=_expired(request),
                         status=403)
    try:
        data = NewRequest(kind=kind, channel=channel,  # type: ignore[arg-type]
                          identity_check=identity_check,  # type: ignore[arg-type]
                          received_at=_received(received, now))
        made = _rights(instance).record(instance.db, data, role=active.role,
                                        actor=_actor(active), email=email or None, now=now)
    except InvalidInput as exc:
        return _new_page(request, active, values=values, status=422,
                         errors={p.field: p.reason for p in exc.problems})
    except NotFound as exc:
        return _new_page(request, active, values=values, status=422,
                         errors={"email": exc.message})
    return RedirectResponse(f"{PATH}/{made.id}?done=recorded", status_code=303)


def _show(request: Request, instance: Instance, active: ActiveSession, request_id: str, *,
          now: datetime, flash: str | None = None, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None, message: str | None = None,
          status: int = 200) -> HTMLResponse:
    shown = _rights(instance).get(instance.db, request_id, role=active.role)
    may = {p.name.lower(): allowed(active.role, p) for p in Permission}
    return page(request, "rights/admin_show.html", {
        "r": shown, "may": may, "flash": flash, "errors": errors or {},
        "values": values or {}, "message": message, "now": now, **LABELS},
        active=active, status_code=status)


@router.get("/{request_id}", response_class=HTMLResponse)
def show(request_id: str, request: Request, instance: InstanceDep, now: NowDep,
         active: StaffDep, done: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    require(active.role, Permission.REQUESTS_READ)
    tr = translations(negotiate(request))
    flash = {"recorded": tr.gettext("The request is recorded."),
             "extended": tr.gettext("The due date is moved."),
             "closed": tr.gettext("The request is closed."),
             "mailed": tr.gettext("The person was mailed a link to their data."),
             "erased": tr.gettext("The erasure is done.")}.get(done)
    return _show(request, instance, active, request_id[:64], now=now, flash=flash)


def _failed(request: Request, instance: Instance, active: ActiveSession, request_id: str,
            exc: Exception, *, now: datetime, prefix: str, values: dict[str, str]
            ) -> HTMLResponse:
    if isinstance(exc, InvalidInput):
        errors = {f"{prefix}_{p.field}": p.reason for p in exc.problems}
        return _show(request, instance, active, request_id, now=now, errors=errors,
                     values=values, status=422)
    message = exc.message if isinstance(exc, EhrlichError) else str(exc)
    return _show(request, instance, active, request_id, now=now, message=message,
                 values=values, status=409)


@router.post("/{request_id}/extend", response_class=HTMLResponse)
def extend(request_id: str, request: Request, instance: InstanceDep, now: NowDep,
           active: StaffDep, months: FormStr = "", reason: FormStr = "",
           csrf: FormStr = "") -> Response:
    require(active.role, Permission.REQUESTS_MANAGE)
    request_id = request_id[:64]
    values = {"months": months, "reason": reason}
    if not check_csrf(request, instance, active, csrf):
        return _show(request, instance, active, request_id, now=now, values=values,
                     message=_expired(request), status=403)
    try:
        _rights(instance).extend(instance.db, request_id, months=int(months)
                                 if months.isdigit() else 0, reason=reason, role=active.role,
                                 actor=_actor(active), now=now)
    except (InvalidInput, Conflict) as exc:
        return _failed(request, instance, active, request_id, exc, now=now, prefix="extend",
                       values=values)
    return RedirectResponse(f"{PATH}/{request_id}?done=extended", status_code=303)


@router.post("/{request_id}/close", response_class=HTMLResponse)
def close(request_id: str, request: Request, instance: InstanceDep, now: NowDep,
          active: StaffDep, status: FormStr = "", result: FormStr = "",
          csrf: FormStr = "") -> Response:
    require(active.role, Permission.REQUESTS_MANAGE)
    request_id = request_id[:64]
    values = {"status": status, "result": result}
    if not check_csrf(request, instance, active, csrf):
        return _show(request, instance, active, request_id, now=now, values=values,
                     message=_expired(request), status=403)
    try:
        _rights(instance).close(instance.db, request_id,
                                status="refused" if status == "refused" else "done",
                                result=result, role=active.role, actor=_actor(active), now=now)
    except (InvalidInput, Conflict) as exc:
        return _failed(request, instance, active, request_id, exc, now=now, prefix="close",
                       values=values)
    return RedirectResponse(f"{PATH}/{request_id}?done=closed", status_code=303)


@router.post("/{request_id}/fulfil")
def fulfil(request_id: str, request: Request, instance: InstanceDep, now: NowDep,
           active: StaffDep, deliver: FormStr = "mail", result: FormStr = "",
           csrf: FormStr = "") -> Response:
    require(active.role, Permission.REQUESTS_MANAGE)
    request_id = request_id[:64]
    values = {"result": result}
    if not check_csrf(request, instance, active, csrf):
        return _show(request, instance, active, request_id, now=now, values=values,
                     message=_expired(request), status=403)
    rights = _rights(instance)
    kind = rights.get(instance.db, request_id, role=active.role).kind
    if kind == "erasure":
        require(active.role, Permission.SUBJECTS_ERASE)
        require_fresh(active, instance, now, f"{PATH}/{request_id}")
    try:
        done = rights.fulfil(instance.db, instance.mail, request_id, role=active.role,
                             actor=_actor(active), language=negotiate(request),
                             deliver="report" if deliver == "report" else "mail",
                             result=result, now=now)
    except (InvalidInput, Conflict, NotFound, Gone) as exc:
        return _failed(request, instance, active, request_id, exc, now=now, prefix="fulfil",
                       values=values)
    if done.report is not None:
        # The copies register records files handed to staff: this download is one.
        return Response(report_json(done.report), media_type="application/json", headers={
            "content-disposition": f'attachment; filename="request-{request_id}.json"',
            "cache-control": "no-store"})
    outcome = "erased" if done.erasure is not None else "mailed" if done.mailed else "closed"
    return RedirectResponse(f"{PATH}/{request_id}?done={outcome}", status_code=303)


