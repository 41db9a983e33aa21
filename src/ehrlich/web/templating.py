"""Jinja2 environment for server-rendered pages (autoescaped), with the shop's branding.

The shell's own templates (`ehrlich.web`: the base page) come first, then the
template folders the domains registered (`Registry.add_templates`), in domain
order; each domain keeps its pages under a folder named after it
(`consent/signup.html`), so no two domains' names collide.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, select_autoescape

from ehrlich.i18n import install, negotiate
from ehrlich.notices.branding import public_brand


def loader(shells: Sequence[str], domains: Sequence[str]) -> BaseLoader:
    """The shells' template folders first, then the domains'."""
    return ChoiceLoader([PackageLoader(package, "templates") for package in (*shells, *domains)])


def domain_templates(request: Request) -> tuple[str, ...]:
    """The template packages the running instance's domains registered."""
    templates: tuple[str, ...] = request.app.state.instance.contributions.templates
    return templates


@cache
def environment(lang: str, domains: tuple[str, ...] = ()) -> Environment:
    """The public templates in `lang` (one environment per language)."""
    return install(Environment(loader=loader(("ehrlich.web",), domains),
                               autoescape=select_autoescape(default=True), auto_reload=False,
                               extensions=["jinja2.ext.i18n"]), lang)


def render(request: Request, template: str, context: dict[str, Any],
           status_code: int = 200) -> HTMLResponse:
    """`template` in the context's `lang`, or else in the language the request asks for."""
    if "brand" not in context:
        instance = request.app.state.instance
        context = {**context, "brand": public_brand(instance.db, instance.notices)}
    lang = context.get("lang") or negotiate(request)
    html = environment(lang, domain_templates(request)).get_template(template).render(
        request=request, **context)
    return HTMLResponse(html, status_code=status_code)
