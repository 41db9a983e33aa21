"""Jinja2 environment for server-rendered pages (autoescaped), with the shop's branding."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError

from ehrlich.i18n import install, negotiate
from ehrlich.notices.branding import Brand, current_brand, plain_brand


@cache
def environment(lang: str) -> Environment:
    """The public templates in `lang` (one environment per language)."""
    return install(Environment(loader=PackageLoader("ehrlich.web", "templates"),
                               autoescape=select_autoescape(default=True), auto_reload=False,
                               extensions=["jinja2.ext.i18n"]), lang)


def brand_of(request: Request) -> Brand:
    """The branding the public pages show; plain ehrlich when the database cannot say."""
    instance = request.app.state.instance
    try:
        with instance.db.read() as session:
            return current_brand(session, instance.notices)
    except SQLAlchemyError:  # an error page must still render
        return plain_brand()


def render(request: Request, template: str, context: dict[str, Any],
           status_code: int = 200) -> HTMLResponse:
    """`template` in the context's `lang`, or else in the language the request asks for."""
    if "brand" not in context:
        context = {**context, "brand": brand_of(request)}
    lang = context.get("lang") or negotiate(request)
    html = environment(lang).get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)
