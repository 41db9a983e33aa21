"""Rendering console pages: admin templates first, then the public ones they extend, then
the template folders the domains registered (see `ehrlich.web.templating`)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape
from markupsafe import Markup, escape

from ehrlich.auth.roles import ROLE_LABELS
from ehrlich.auth.sessions import ActiveSession
from ehrlich.i18n import LANG_COOKIE, install, negotiate
from ehrlich.instance.commands import pasteable
from ehrlich.web.templating import domain_templates, loader

CONSOLE_PATH = re.compile(r"(?<![\w/:.])/admin(?:/[a-z0-9-]+)*")  # not inside a URL


def console_links(text: str) -> Markup:
    """`text`, escaped, with each console path in it (`/admin/backups`) a link there: the
    protection report's fixes name the page where the fix is made."""
    return Markup(CONSOLE_PATH.sub(  # noqa: S704 - the text is escaped; paths are [a-z0-9/-]
        lambda m: f'<a href="{m.group()}">{m.group()}</a>', str(escape(text))))


@cache
def environment(lang: str, domains: tuple[str, ...] = ()) -> Environment:
    """The console's templates in `lang` (one environment per language)."""
    env = Environment(loader=loader(("ehrlich.admin", "ehrlich.web"), domains),
                      autoescape=select_autoescape(default=True), auto_reload=False,
                      extensions=["jinja2.ext.i18n"])
    env.filters["console_links"] = console_links
    return install(env, lang)


def page(request: Request, template: str, context: dict[str, Any], *,
         active: ActiveSession | None = None, status_code: int = 200,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    lang = negotiate(request)
    instance = request.app.state.instance
    navigation = request.app.state.admin_nav
    nav = navigation.for_role(active.role) if active else []
    nav_groups = navigation.groups_for_role(active.role) if active else []
    csrf = instance.staff.sessions.csrf_token(active.token) if active else ""
    html = environment(lang, domain_templates(request)).get_template(template).render(
        request=request, lang=lang, nav=nav, nav_groups=nav_groups, active=active, csrf=csrf,
        role_labels=ROLE_LABELS, **context)
    if active is not None:  # staff see commands as they work on the server; others do not
        # learn where it is installed
        html = pasteable(html, str(escape(request.app.state.command)))
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["cache-control"] = "no-store"
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, path="/",
                            samesite="lax")
    return response
