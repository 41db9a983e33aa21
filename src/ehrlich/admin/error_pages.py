"""Console errors as pages in the console's layout and language, not JSON.

`web.problems` still decides the status of every error; for paths under /admin it
asks `error_page` for the answer. Domain messages are written for the log and the
API (English, sometimes technical: "the marketer role may not staff.manage"), so the
page says in plain words what the status means and, for refused input, which fields.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.templating import page
from ehrlich.i18n import N_, negotiate, translations

TEXTS: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"),
          N_("The request could not be read. Go back and try again.")),
    403: (N_("Not allowed"),
          N_("Your role may not open this page or do this. If you need it, ask an "
             "owner or admin.")),
    404: (N_("Page not found"),
          N_("There is no page at this address. Check the link, or go back to the "
             "overview.")),
    405: (N_("Not possible here"),
          N_("This page cannot be used this way. Go back and use the buttons and "
             "links on the page.")),
    409: (N_("Conflict"),
          N_("This clashes with the current state. Reload the page and check.")),
    410: (N_("Gone"),
          N_("What this page showed no longer exists.")),
    413: (N_("Too large"),
          N_("What you sent is too large.")),
    422: (N_("Please check your input"),
          N_("Some of what you entered cannot be used; nothing was changed:")),
    500: (N_("Something went wrong"),
          N_("Something went wrong on our side; nothing was changed. Try again; if "
             "it keeps happening, tell whoever runs this instance.")),
    503: (N_("Unavailable"),
          N_("A service this instance needs did not answer; nothing was changed. Try "
             "again in a minute.")),
}
"""The title and text of each error page, translated where it is shown."""


def error_page(request: Request, status: int, fields: list[dict[str, str]]) -> HTMLResponse:
    """The console page for an error with `status`; `fields` names refused input."""
    tr = translations(negotiate(request))
    title, text = TEXTS.get(status, TEXTS[500 if status >= 500 else 400])
    active = getattr(request.state, "staff_session", None)
    return page(request, "error.html", {
        "status": status, "error_title": tr.gettext(title), "error_text": tr.gettext(text),
        "fields": fields if status == 422 else []}, active=active, status_code=status)
