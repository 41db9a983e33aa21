"""`/`: where a visitor lands; points to the public pages and the console."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

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
