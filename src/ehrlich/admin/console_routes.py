"""Console pages after sign-in: overview with the posture report, staff management,
account (password), and the data-handling guide."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ehrlich.admin.deps import (
    StaffBeforeGuideDep,
    StaffDep,
    check_csrf,
    client_address,
    cookie_names,
    guide_of,
    require_fresh,
    set_cookie,
)
from ehrlich.admin.login_routes import confirmation_refused
from ehrlich.admin.overview import SERIES_LABELS, build_overview
from ehrlich.admin.templating import page
from ehrlich.admin.texts import COUNT_LABELS, FORM_EXPIRED
from ehrlich.auth.roles import Permission, Role, require
from ehrlich.errors import EhrlichError, InvalidInput, NotAllowed, NotFound
from ehrlich.i18n import negotiate, translations
from ehrlich.mail.status import mail_status
from ehrlich.posture.i18n import STATUS_LABELS
from ehrlich.rights.schemas import KIND_LABELS
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin", include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, instance: InstanceDep, now: NowDep,
              active: StaffDep) -> HTMLResponse:
    overview = build_overview(instance, active, now=now, language=negotiate(request))
    with instance.db.read() as session:
        user = instance.staff.users.by_email(session, active.email)
    return page(request, "dashboard.html", {
        "o": overview, "count_labels": COUNT_LABELS, "series_labels": SERIES_LABELS,
        "mail": mail_status(instance.settings),
        "status_labels": STATUS_LABELS, "now": now, "kinds_labels": KIND_LABELS,
        "must_change": bool(user and user.must_change_password)}, active=active)


def _staff_page(request: Request, instance: InstanceDep, active: StaffDep, *,
                message: str | None = None, new_password: tuple[str, str] | None = None,
                status: int = 200) -> HTMLResponse:
    with instance.db.read() as session:
        users = instance.staff.users.list_all(session, role=active.role)
    roles = [r.value for r in Role if r != Role.OWNER or active.role == Role.OWNER]
    return page(request, "staff.html", {
        "users": users, "roles": roles, "message": message, "new_password": new_password,
        "hours": instance.settings.initial_password_hours}, active=active, status_code=status)


def _staff_change_refused(request: Request, instance: InstanceDep, now: NowDep,
                          active: StaffDep, csrf: str) -> HTMLResponse | None:
    """None when a change to the team may go ahead; the staff page saying the form expired
    otherwise. A session that is not fresh is sent to confirm the sign-in first."""
    require(active.role, Permission.STAFF_MANAGE)
    if not check_csrf(request, instance, active, csrf):
        tr = translations(negotiate(request))
        return _staff_page(request, instance, active, message=tr.gettext(FORM_EXPIRED), status=403)
    require_fresh(active, instance, now, "/admin/staff")
    return None


def _refusal(request: Request, instance: InstanceDep, active: StaffDep,
             exc: EhrlichError) -> HTMLResponse:
    status = 422 if isinstance(exc, InvalidInput) else 403 if isinstance(
        exc, NotAllowed) else 404 if isinstance(exc, NotFound) else 409
    return _staff_page(request, instance, active, message=exc.message, status=status)


@router.get("/staff", response_class=HTMLResponse)
def staff(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    return _staff_page(request, instance, active)


@router.post("/staff", response_class=HTMLResponse)
def add_staff(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
              email: FormStr = "", role: FormStr = "", csrf: FormStr = "") -> Response:
    """An invitation: the account with a one-time password, shown once to the inviter."""
    refused = _staff_change_refused(request, instance, now, active, csrf)
    if refused is not None:
        return refused
    try:
        with instance.db.write() as session:
            view, password = instance.staff.users.add(
                session, email=email, role=role, actor=f"staff:{active.user_id}",
                actor_role=active.role, now=now)
    except EhrlichError as exc:
        return _refusal(request, instance, active, exc)
    return _staff_page(request, instance, active,
                       new_password=(view.email, password or ""), status=201)


@router.post("/staff/{user_id}/role", response_class=HTMLResponse)
def change_role(request: Request, user_id: str, instance: InstanceDep, now: NowDep,
                active: StaffDep, role: FormStr = "", csrf: FormStr = "") -> Response:
    refused = _staff_change_refused(request, instance, now, active, csrf)
    if refused is not None:
        return refused
    try:
        with instance.db.write() as session:
            instance.staff.users.change_role(session, user_id, role,
                                             actor=f"staff:{active.user_id}",
                                             actor_role=active.role, now=now)
    except EhrlichError as exc:
        return _refusal(request, instance, active, exc)
    return RedirectResponse("/admin/staff", status_code=303)


@router.post("/staff/{user_id}/reset", response_class=HTMLResponse)
def reset_staff(request: Request, user_id: str, instance: InstanceDep, now: NowDep,
                active: StaffDep, second_factor: FormStr = "", csrf: FormStr = "") -> Response:
    """A new one-time password (shown once); with `second_factor=1` the app is forgotten too,
    so the person sets it up again at their next sign-in."""
    refused = _staff_change_refused(request, instance, now, active, csrf)
    if refused is not None:
        return refused
    try:
        with instance.db.write() as session:
            password = instance.staff.users.reset(
                session, user_id, actor=f"staff:{active.user_id}", actor_role=active.role,
                now=now, second_factor=second_factor == "1")
            email = instance.staff.users.email_of(session, user_id)
    except EhrlichError as exc:
        return _refusal(request, instance, active, exc)
    return _staff_page(request, instance, active, new_password=(email, password))


@router.post("/staff/{user_id}/disable", response_class=HTMLResponse)
def disable_staff(request: Request, user_id: str, instance: InstanceDep, now: NowDep,
                  active: StaffDep, csrf: FormStr = "") -> Response:
    refused = _staff_change_refused(request, instance, now, active, csrf)
    if refused is not None:
        return refused
    try:
        with instance.db.write() as session:
            instance.staff.users.disable(session, user_id, actor=f"staff:{active.user_id}",
                                         actor_role=active.role, now=now)
    except EhrlichError as exc:
        return _refusal(request, instance, active, exc)
    return RedirectResponse("/admin/staff", status_code=303)


def _account_page(request: Request, instance: InstanceDep, now: NowDep,
                  active: StaffBeforeGuideDep, *, message: str | None = None,
                  message_kind: str = "error",
                  status: int = 200, challenge: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None,
                  current_token: str | None = None) -> HTMLResponse:
    """`current_token` names this browser's session when it was just rotated."""
    with instance.db.read() as session:
        sessions = instance.staff.sessions.list_for(
            session, active.user_id, current_token=current_token or active.token, now=now)
        user = instance.staff.users.by_email(session, active.email)
    must_change = user is not None and user.must_change_password
    return page(request, "account.html", {
        "message": message, "sessions": sessions, "challenge": challenge,
        "message_kind": message_kind,
        "must_change": must_change,
        "expires_at": user.initial_password_expires_at if must_change and user else None},
        active=active, status_code=status, headers=headers)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, instance: InstanceDep, now: NowDep,
            active: StaffBeforeGuideDep) -> HTMLResponse:
    return _account_page(request, instance, now, active)


@router.post("/account/sessions/{ref}/end")
def end_session(request: Request, ref: str, instance: InstanceDep, now: NowDep,
                active: StaffBeforeGuideDep, csrf: FormStr = "") -> Response:
    """End one other session of one's own (after a fresh confirmation)."""
    if check_csrf(request, instance, active, csrf):
        require_fresh(active, instance, now, "/admin/account")
        with instance.db.write() as session:
            instance.staff.sessions.end_ref(session, active.user_id, ref)
    return RedirectResponse("/admin/account", status_code=303)


@router.post("/account", response_class=HTMLResponse)
def change_password(request: Request, instance: InstanceDep, now: NowDep,
                    active: StaffBeforeGuideDep, current: FormStr = "",
                    new_password: FormStr = "", csrf: FormStr = "",
                    altcha: FormStr = "") -> Response:
    tr = translations(negotiate(request))
    if not check_csrf(request, instance, active, csrf):
        return _account_page(request, instance, now, active, message=tr.gettext(FORM_EXPIRED),
                             status=403)
    names = cookie_names(instance)
    try:
        result = instance.staff.change_password(
            instance.db, active, current=current, new=new_password,
            address=client_address(request), captcha=altcha or None,
            device_cookie=request.cookies.get(names.device), mail=instance.mail, now=now)
    except InvalidInput as exc:
        return _account_page(request, instance, now, active,
                             message=exc.problems[0].reason, status=422)
    refused = confirmation_refused(request, instance, result,
                                   partial(_account_page, request, instance, now, active))
    if refused is not None:
        return refused
    assert result.session_token is not None
    response = _account_page(request, instance, now, active,
                             message=tr.gettext("Your password was changed."),
                             message_kind="ok",
                             current_token=result.session_token)
    set_cookie(response, names, names.session, result.session_token)
    return response


@router.post("/account/sessions")
def end_all_sessions(request: Request, instance: InstanceDep, now: NowDep,
                     active: StaffBeforeGuideDep, csrf: FormStr = "") -> Response:
    """Sign out everywhere, this browser included (after a fresh confirmation)."""
    if not check_csrf(request, instance, active, csrf):
        return RedirectResponse("/admin/account", status_code=303)
    require_fresh(active, instance, now, "/admin/account")
    with instance.db.write() as session:
        instance.staff.sessions.end_all(session, active.user_id)
    return RedirectResponse("/admin/login", status_code=303)


@router.get("/guide", response_class=HTMLResponse)
def guide(request: Request, instance: InstanceDep, active: StaffBeforeGuideDep) -> HTMLResponse:
    current = guide_of(instance)
    return page(request, "guide.html", {
        "paragraphs": current.for_language(negotiate(request)), "hash": current.hash},
        active=active)


@router.post("/guide")
def acknowledge(request: Request, instance: InstanceDep, now: NowDep,
                active: StaffBeforeGuideDep, guide_hash: FormStr = "",
                csrf: FormStr = "") -> Response:
    current = guide_of(instance)
    if check_csrf(request, instance, active, csrf) and guide_hash == current.hash:
        with instance.db.write() as session:
            instance.staff.users.acknowledge_guide(session, active.user_id, current.hash,
                                                   now=now)
        return RedirectResponse("/admin", status_code=303)
    return RedirectResponse("/admin/guide", status_code=303)
