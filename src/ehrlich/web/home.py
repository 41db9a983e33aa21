"""`/`: where a visitor lands; points to the public pages and the console."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)

LINKS = {
    "en": [("/notice", "Privacy notice: what we keep, why, and who else gets it"),
           ("/security", "How your data is protected"),
           ("/admin", "Staff console"),
           ("/api/docs", "API reference for developers")],
    "de": [("/notice", "Datenschutzhinweise: was wir speichern, wozu und wer es sonst erhält"),
           ("/security", "Wie Ihre Daten geschützt sind"),
           ("/admin", "Konsole für Mitarbeitende"),
           ("/api/docs", "API-Referenz für Entwickler")],
}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    lang = "de" if request.headers.get("accept-language", "").lower().startswith("de") else "en"
    return render(request, "home.html", {"lang": lang, "links": LINKS[lang]})


@cache
def _favicon() -> bytes:
    return (files("ehrlich.web") / "static" / "favicon.svg").read_bytes()


@router.get("/favicon.ico")
def favicon() -> Response:
    """Our own icon for clients that ask /favicon.ico without reading the page's link
    (browsers take an SVG by its content type, whatever the name says)."""
    return Response(_favicon(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})
