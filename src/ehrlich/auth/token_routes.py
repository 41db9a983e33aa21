"""Console page for API tokens: create (the token shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ehrlich.admin.deps import StaffDep, check_csrf, require_fresh
from ehrlich.admin.templating import page
from ehrlich.admin.texts import form_expired
from ehrlich.auth.api_tokens import SCOPES, issue_api_token, list_api_tokens, withdraw_api_token
from ehrlich.auth.roles import Permission, require
from ehrlich.errors import InvalidInput
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/tokens", include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]



def _page(request: Request, instance: InstanceDep, active: StaffDep, *,
          token: str | None = None, errors: dict[str, str] | None = None,
          form: dict[str, object] | None = None, message: str | None = None,
          status_code: int = 200) -> HTMLResponse:
    with instance.db.read() as session:
        tokens = list_api_tokens(session)
    return page(request, "auth/admin_tokens.html", {
        "tokens": list(reversed(tokens)), "scopes": SCOPES, "token": token,
        "errors": errors or {}, "form": form or {"name": "", "scopes": []},
        "message": message}, active=active, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def tokens_page(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.TOKENS_MANAGE)
    return _page(request, instance, active)


@router.post("", response_class=HTMLResponse)
def create_token(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
                 name: FormStr = "", scope: Annotated[list[str] | None, Form()] = None,
                 csrf: FormStr = "") -> HTMLResponse:
    """The new token is in this answer only (never stored, never cached)."""
    require(active.role, Permission.TOKENS_MANAGE)
    scopes = [s for s in (scope or []) if len(s) <= 100]
    form: dict[str, object] = {"name": name, "scopes": scopes}
    if not check_csrf(request, instance, active, csrf):
        return _page(request, instance, active, form=form, message=form_expired(request),
                     status_code=403)
    require_fresh(active, instance, now, "/admin/tokens")  # a token may decrypt data
    try:
        with instance.db.write() as session:
            token, _ = issue_api_token(session, instance.audit, name=name, scopes=scopes,
                                       actor=f"staff:{active.user_id}", now=now)
    except InvalidInput as exc:
        errors = {p.field: p.reason for p in exc.problems}
        return _page(request, instance, active, errors=errors, form=form, status_code=422)
    return _page(request, instance, active, token=token, status_code=201)


@router.get("/{token_id}/revoke", response_class=HTMLResponse)
def confirm_revoke(request: Request, token_id: str, instance: InstanceDep,
                   active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.TOKENS_MANAGE)
    with instance.db.read() as session:
        found = [t for t in list_api_tokens(session) if t.id == token_id]
    if not found:
        return _page(request, instance, active, status_code=404,
                     message=f"token_id: no such token {token_id[:40]}")
    return page(request, "auth/admin_token_revoke.html", {
        "token": found[0]}, active=active)


@router.post("/{token_id}/revoke")
def revoke_token(request: Request, token_id: str, instance: InstanceDep, now: NowDep,
                 active: StaffDep, csrf: FormStr = "") -> Response:
    require(active.role, Permission.TOKENS_MANAGE)
    if not check_csrf(request, instance, active, csrf):
        return _page(request, instance, active, message=form_expired(request),
                     status_code=403)
    try:
        with instance.db.write() as session:
            withdraw_api_token(session, instance.audit, token_id,
                               actor=f"staff:{active.user_id}", now=now)
            instance.api_tokens.revoke_in(session, token_id)
    except InvalidInput as exc:
        return _page(request, instance, active, status_code=404,
                     message=f"{exc.problems[0].field}: {exc.problems[0].reason}")
    return RedirectResponse("/admin/tokens", status_code=303)
