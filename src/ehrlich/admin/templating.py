"""Rendering console pages: admin templates first, then the public ones they extend."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from ehrlich.auth.sessions import ActiveSession
from ehrlich.i18n import LANG_COOKIE, install, negotiate


@cache
def environment(lang: str) -> Environment:
    """The console's templates in `lang` (one environment per language)."""
    loader = ChoiceLoader([PackageLoader("ehrlich.admin", "templates"),
                           PackageLoader("ehrlich.subjects", "templates"),
                           PackageLoader("ehrlich.web", "templates")])
    return install(Environment(loader=loader, autoescape=select_autoescape(default=True),
                               auto_reload=False, extensions=["jinja2.ext.i18n"]), lang)


def page(request: Request, template: str, context: dict[str, Any], *,
         active: ActiveSession | None = None, status_code: int = 200,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    lang = negotiate(request)
    instance = request.app.state.instance
    nav = request.app.state.admin_nav.for_role(active.role) if active else []
    csrf = instance.staff.sessions.csrf_token(active.token) if active else ""
    html = environment(lang).get_template(template).render(
        request=request, lang=lang, nav=nav, active=active, csrf=csrf, **context)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["cache-control"] = "no-store"
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, path="/",
                            samesite="lax")
    return response
