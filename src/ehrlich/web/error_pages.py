"""Errors on the public pages as pages for people, not JSON.

A visitor who follows a wrong or outdated link (`/nope`, a version that does not
exist) in a browser gets a page in the site's layout and language that says what
happened and links home; the API (`/api/…`) and anything that does not ask for HTML
(scripts, `curl` without `Accept: text/html`) keep RFC 9457 problem details.
`web.problems` decides the status; the console has its own pages (admin.error_pages).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from ehrlich.i18n import N_, negotiate, translations
from ehrlich.web.field_errors import reason_text
from ehrlich.web.templating import render

TEXTS: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("This link or form could not be read. Check the link, or "
                                "go back and try again.")),
    404: (N_("Page not found"), N_("There is no page at this address. Check the link.")),
    405: (N_("Not possible here"), N_("This page cannot be used this way. Go back and use "
                                      "the buttons and links on the page.")),
    410: (N_("Gone"), N_("What this page showed no longer exists.")),
    413: (N_("Too large"), N_("What you sent is too large.")),
    422: (N_("Please check your input"), N_("Some of what was sent cannot be used; nothing "
                                            "was changed:")),
    429: (N_("Too many requests"), N_("Too many requests came from here. Wait a minute and "
                                      "try again.")),
    500: (N_("Something went wrong"), N_("Something went wrong on our side; nothing was "
                                         "changed. Please try again later.")),
    503: (N_("Unavailable"), N_("This site cannot answer right now; nothing was changed. "
                                "Try again in a minute.")),
}
"""The title and text of each error page, translated where it is shown."""


def wants_html(request: Request) -> bool:
    """A browser's navigation or form post: it asks for HTML, and not under the API."""
    path = request.url.path
    return ("text/html" in request.headers.get("accept", "")
            and path != "/api" and not path.startswith("/api/"))


def public_error_page(request: Request, status: int, fields: list[dict[str, str]]
                      ) -> HTMLResponse:
    """The public page for an error with `status`; `fields` names refused input."""
    lang = negotiate(request)
    tr = translations(lang)
    title, text = TEXTS.get(status, TEXTS[500 if status >= 500 else 400])
    return render(request, "error_page.html", {
        "lang": lang, "status": status, "error_title": tr.gettext(title),
        "error_text": tr.gettext(text),
        "fields": [{"field": f["field"], "reason": reason_text(f["reason"], lang)}
                   for f in fields] if status == 422 else []},
        status_code=status)
