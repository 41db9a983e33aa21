"""The console shell: mounts its pages, holds the navigation registry, turns `Redirect`
into 303 responses. Domain pages join with `router` + one `NavEntry`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from ehrlich.admin import console_routes, login_routes
from ehrlich.admin.deps import Redirect
from ehrlich.admin.error_pages import error_page
from ehrlich.admin.nav import NavEntry, Navigation
from ehrlich.auth.roles import Permission
from ehrlich.consent import admin_routes as consent_admin
from ehrlich.mail import admin_routes as mail_admin
from ehrlich.web.problems import register_error_page


def default_navigation() -> Navigation:
    nav = Navigation()
    nav.add(NavEntry("/admin", {"en": "Overview", "de": "Übersicht"}))
    nav.add(NavEntry("/admin/staff", {"en": "Staff", "de": "Team"}, Permission.STAFF_MANAGE))
    nav.add(NavEntry("/admin/account", {"en": "Account", "de": "Konto"}))
    nav.add(NavEntry("/admin/consents", {"en": "Consent", "de": "Einwilligungen"},
                     Permission.AUDIT_READ))
    nav.add(NavEntry("/admin/mail", {"en": "Mail", "de": "Mail"}, Permission.POSTURE_READ))
    return nav


def _redirect(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Redirect)
    return RedirectResponse(exc.url, status_code=303)


def install(app: FastAPI) -> None:
    app.state.admin_nav = default_navigation()
    app.include_router(login_routes.router)
    app.include_router(console_routes.router)
    app.include_router(consent_admin.router)
    app.include_router(mail_admin.router)
    app.add_exception_handler(Redirect, _redirect)
    register_error_page(app, "/admin", error_page)
