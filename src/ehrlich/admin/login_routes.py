"""Console sign-in pages: password (with CAPTCHA escalation), code, enrolment,
re-authentication, sign-out. Handlers parse, call one service function, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ehrlich.admin.deps import (
    DEVICE_MAX_AGE,
    Redirect,
    StaffBeforeGuideDep,
    check_csrf,
    check_pre_csrf,
    clear_cookie,
    client_address,
    cookie_names,
    load_session,
    new_pre_value,
    pre_session_csrf,
    require_fresh,
    session_token,
    set_cookie,
)
from ehrlich.admin.templating import page
from ehrlich.admin.texts import CAPTCHA_NEEDED, FORM_EXPIRED, REAUTH_FAILED, WAIT
from ehrlich.auth.login import LoginResult
from ehrlich.auth.sessions import STAGE_ENROL, STAGE_FULL, STAGE_MFA
from ehrlich.errors import InvalidInput
from ehrlich.i18n import negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin", include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]


def _login_page(request: Request, instance: Instance, *, status: int = 200,
                message: str | None = None, email: str = "",
                challenge: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> HTMLResponse:
    names = cookie_names(instance)
    pre = request.cookies.get(names.pre) or new_pre_value()
    response = page(request, "login.html", {
        "message": message, "email": email, "challenge": challenge,
        "login_csrf": pre_session_csrf(instance, pre)}, status_code=status, headers=headers)
    if request.cookies.get(names.pre) != pre:
        set_cookie(response, names, names.pre, pre)
    return response


def _signed_in(instance: Instance, result: LoginResult, target: str) -> Response:
    names = cookie_names(instance)
    response = RedirectResponse(target, status_code=303)
    assert result.session_token is not None
    set_cookie(response, names, names.session, result.session_token)
    if result.device_cookie:
        set_cookie(response, names, names.device, result.device_cookie, max_age=DEVICE_MAX_AGE)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, instance: InstanceDep) -> HTMLResponse:
    return _login_page(request, instance)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, instance: InstanceDep, now: NowDep, email: FormStr = "",
          password: FormStr = "", csrf: FormStr = "", altcha: FormStr = "") -> Response:
    tr = translations(negotiate(request))
    if not check_pre_csrf(request, instance, csrf):
        return _login_page(request, instance, status=403, message=tr.gettext(FORM_EXPIRED),
                           email=email)
    result = instance.staff.login.password(
        instance.db, email=email, password=password, address=client_address(request),
        captcha=altcha or None, device_cookie=request.cookies.get(cookie_names(instance).device),
        mail=instance.mail, now=now)
    if result.outcome == "captcha":
        return _login_page(request, instance, status=401, message=tr.gettext(CAPTCHA_NEEDED),
                           email=email, challenge=result.challenge)
    if result.outcome == "wait":
        return _login_page(request, instance, status=429, email=email,
                           message=tr.gettext(WAIT) % {"seconds": result.retry_after},
                           headers={"Retry-After": str(result.retry_after)})
    if result.outcome == "failed":
        return _login_page(request, instance, status=401,
                           message=tr.gettext("The email or password is not right."),
                           email=email)
    if result.outcome == "initial_password_expired":
        return _login_page(request, instance, status=401,
                           message=tr.gettext("This one-time password has expired. Ask an "
                                              "owner or admin for a new one (`ehrlich user "
                                              "reset EMAIL`)."), email=email)
    target = {"second_factor": "/admin/login/code", "enrol": "/admin/enrol"}.get(
        result.outcome, "/admin")
    return _signed_in(instance, result, target)


@router.get("/login/code", response_class=HTMLResponse)
def code_form(request: Request, instance: InstanceDep, now: NowDep) -> HTMLResponse:
    active = load_session(request, instance, now, stages=(STAGE_MFA,))
    return page(request, "code.html", {"message": None, "code_csrf":
                                       instance.staff.sessions.csrf_token(active.token)})


@router.post("/login/code", response_class=HTMLResponse)
def code(request: Request, instance: InstanceDep, now: NowDep, code: FormStr = "",
         csrf: FormStr = "") -> Response:
    tr = translations(negotiate(request))
    active = load_session(request, instance, now, stages=(STAGE_MFA,))
    csrf_ok = check_csrf(request, instance, active, csrf)
    if not csrf_ok:
        return page(request, "code.html", {"message": tr.gettext(FORM_EXPIRED), "code_csrf":
                    instance.staff.sessions.csrf_token(active.token)}, status_code=403)
    result = instance.staff.login.second_factor(
        instance.db, token=active.token, code=code, address=client_address(request), now=now)
    if result.outcome == "signed_in":
        return _signed_in(instance, result, "/admin")
    if result.outcome == "restart":
        response = RedirectResponse("/admin/login", status_code=303)
        clear_cookie(response, cookie_names(instance), cookie_names(instance).session)
        return response
    return page(request, "code.html", {
        "message": tr.gettext("That code is not right or was already used."),
        "code_csrf": instance.staff.sessions.csrf_token(active.token)}, status_code=401)


def _enrol_page(request: Request, instance: Instance, active: Any, *,
                message: str | None = None, status: int = 200) -> HTMLResponse:
    with instance.db.write() as session:
        row = instance.staff.sessions.row(session, active.token)
        assert row is not None
        enrolment = instance.staff.users.begin_enrolment(session, active.user_id, row)
    return page(request, "enrol.html", {
        "enrolment": enrolment, "message": message,
        "enrol_csrf": instance.staff.sessions.csrf_token(active.token)}, status_code=status)


@router.get("/enrol", response_class=HTMLResponse)
def enrol_form(request: Request, instance: InstanceDep, now: NowDep) -> HTMLResponse:
    active = load_session(request, instance, now, stages=(STAGE_ENROL, STAGE_FULL))
    if active.stage == STAGE_FULL:  # replacing a second factor needs fresh authentication
        require_fresh(active, instance, now, "/admin/enrol")
    return _enrol_page(request, instance, active)


@router.post("/enrol", response_class=HTMLResponse)
def enrol(request: Request, instance: InstanceDep, now: NowDep, code: FormStr = "",
          csrf: FormStr = "") -> Response:
    tr = translations(negotiate(request))
    active = load_session(request, instance, now, stages=(STAGE_ENROL, STAGE_FULL))
    if active.stage == STAGE_FULL:
        require_fresh(active, instance, now, "/admin/enrol")
    if not check_csrf(request, instance, active, csrf):
        return _enrol_page(request, instance, active, message=tr.gettext(FORM_EXPIRED), status=403)
    try:
        with instance.db.write() as session:
            row = instance.staff.sessions.row(session, active.token)
            assert row is not None
            codes = instance.staff.users.confirm_enrolment(session, active.user_id, row, code,
                                                           now=now)
            token = instance.staff.sessions.rotate(session, active.token, stage=STAGE_FULL,
                                                   now=now, reauthenticated=True)
    except InvalidInput as exc:
        return _enrol_page(request, instance, active, message=exc.problems[0].reason,
                           status=422)
    names = cookie_names(instance)
    response = page(request, "recovery.html", {"codes": codes})
    set_cookie(response, names, names.session, token)
    set_cookie(response, names, names.device,
               instance.staff.login.device_cookie(active.user_id, now=now),
               max_age=DEVICE_MAX_AGE)
    return response


def confirmation_refused(request: Request, instance: Instance, result: LoginResult,
                         render: Callable[..., HTMLResponse]) -> Response | None:
    """None when a password (and code) confirmation went through; otherwise the answer:
    the form again with a CAPTCHA, a delay or the failure, or back to the sign-in when
    too many wrong codes ended the session. `render(message=, status=, challenge=,
    headers=)` draws the form."""
    tr = translations(negotiate(request))
    if result.outcome == "signed_in":
        return None
    if result.outcome == "restart":
        names = cookie_names(instance)
        response = RedirectResponse("/admin/login", status_code=303)
        clear_cookie(response, names, names.session)
        return response
    if result.outcome == "captcha":
        return render(message=tr.gettext(CAPTCHA_NEEDED), status=401, challenge=result.challenge)
    if result.outcome == "wait":
        return render(message=tr.gettext(WAIT) % {"seconds": result.retry_after}, status=429,
                      headers={"Retry-After": str(result.retry_after)})
    return render(message=tr.gettext(REAUTH_FAILED), status=401)


def _reauth_page(request: Request, active: Any, next_path: str, *, message: str | None = None,
                 status: int = 200, challenge: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> HTMLResponse:
    return page(request, "reauth.html", {"next": _local(next_path), "message": message,
                                         "challenge": challenge},
                active=active, status_code=status, headers=headers)


@router.get("/reauth", response_class=HTMLResponse)
def reauth_form(request: Request, active: StaffBeforeGuideDep, next: str = "/admin"
                ) -> HTMLResponse:
    return _reauth_page(request, active, next)


@router.post("/reauth", response_class=HTMLResponse)
def reauth(request: Request, instance: InstanceDep, now: NowDep, active: StaffBeforeGuideDep,
           password: FormStr = "", code: FormStr = "", csrf: FormStr = "",
           next: FormStr = "/admin", altcha: FormStr = "") -> Response:
    tr = translations(negotiate(request))
    if not check_csrf(request, instance, active, csrf):
        return _reauth_page(request, active, next, message=tr.gettext(FORM_EXPIRED), status=403)
    names = cookie_names(instance)
    result = instance.staff.login.confirm(
        instance.db, active, password=password, code=code, address=client_address(request),
        captcha=altcha or None, device_cookie=request.cookies.get(names.device),
        mail=instance.mail, now=now)
    refused = confirmation_refused(request, instance, result,
                                   partial(_reauth_page, request, active, next))
    if refused is not None:
        return refused
    assert result.session_token is not None
    response = RedirectResponse(_local(next), status_code=303)
    set_cookie(response, names, names.session, result.session_token)
    return response


@router.post("/logout")
def logout(request: Request, instance: InstanceDep, csrf: FormStr = "") -> Response:
    token = session_token(request, instance)
    if token and instance.staff.sessions.check_csrf(token, csrf):
        with instance.db.write() as session:
            instance.staff.sessions.end(session, token)
    response = RedirectResponse("/admin/login", status_code=303)
    clear_cookie(response, cookie_names(instance), cookie_names(instance).session)
    return response


def _local(target: str) -> str:
    """Only paths inside the console: never an open redirect."""
    if target.startswith("/admin") and "//" not in target and "\\" not in target:
        return target
    raise Redirect("/admin")
