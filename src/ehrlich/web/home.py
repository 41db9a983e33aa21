"""`/`: where a visitor lands; points to the public pages and the console."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ehrlich.i18n import N_, negotiate
from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)

LINKS = [
    ("/notice", N_("Privacy notice: what we keep, why, and who else gets it")),
    ("/security", N_("How your data is protected")),
    ("/admin", N_("Staff console")),
    ("/api/docs", N_("API reference for developers")),
]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", {"lang": negotiate(request), "links": LINKS})


@cache
def _favicon() -> bytes:
    return (files("ehrlich.web") / "static" / "favicon.svg").read_bytes()


@router.get("/favicon.ico")
def favicon() -> Response:
    """Our own icon for clients that ask /favicon.ico without reading the page's link
    (browsers take an SVG by its content type, whatever the name says)."""
    return Response(_favicon(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})
