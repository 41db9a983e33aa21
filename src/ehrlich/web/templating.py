"""Jinja2 environment for server-rendered pages (autoescaped)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from ehrlich.i18n import install, negotiate


@cache
def environment(lang: str) -> Environment:
    """The public templates in `lang` (one environment per language)."""
    return install(Environment(loader=PackageLoader("ehrlich.web", "templates"),
                               autoescape=select_autoescape(default=True), auto_reload=False,
                               extensions=["jinja2.ext.i18n"]), lang)


def render(request: Request, template: str, context: dict[str, Any],
           status_code: int = 200) -> HTMLResponse:
    """`template` in the context's `lang`, or else in the language the request asks for."""
    lang = context.get("lang") or negotiate(request)
    html = environment(lang).get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)
