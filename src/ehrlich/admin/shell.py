"""The console shell: mounts its pages and the domains' console pages, builds the
navigation (its own entries, then the domains'), turns `Redirect` into 303 responses.
A domain's page joins with `registry.add_console_page(router, NavEntry(...))`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from ehrlich.admin import console_routes, login_routes
from ehrlich.admin.deps import Redirect
from ehrlich.admin.error_pages import error_page
from ehrlich.admin.nav import ADMINISTRATION, NavEntry, Navigation
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.registry import Contributions, load_router
from ehrlich.web.problems import register_error_page

SHELL_ENTRIES = (
    NavEntry("/admin", N_("Overview")),
    NavEntry("/admin/account", N_("Account")),
    NavEntry("/admin/staff", N_("Staff"), Permission.STAFF_MANAGE, ADMINISTRATION),
)


def navigation(contributions: Contributions) -> Navigation:
    nav = Navigation()
    for entry in (*SHELL_ENTRIES, *contributions.navigation):
        nav.add(entry)
    return nav


def _redirect(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Redirect)
    return RedirectResponse(exc.url, status_code=303)


def install(app: FastAPI, contributions: Contributions) -> None:
    app.state.admin_nav = navigation(contributions)
    app.include_router(login_routes.router)
    app.include_router(console_routes.router)
    for router in contributions.console_routers:
        app.include_router(load_router(router))
    app.add_exception_handler(Redirect, _redirect)
    register_error_page(app, "/admin", error_page)
