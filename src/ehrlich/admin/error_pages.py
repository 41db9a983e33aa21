"""Console errors as pages in the console's layout and language, not JSON.

`web.problems` still decides the status of every error; for paths under /admin it
asks `error_page` for the answer. Domain messages are written for the log and the
API (English, sometimes technical: "the marketer role may not staff.manage"), so the
page says in plain words what the status means and, for refused input, which fields.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.i18n import language
from ehrlich.admin.templating import page

TEXTS: dict[str, dict[int, tuple[str, str]]] = {
    "en": {
        400: ("Bad request", "The request could not be read. Go back and try again."),
        403: ("Not allowed", "Your role may not open this page or do this. If you need it, "
                             "ask an owner or admin."),
        404: ("Page not found", "There is no page at this address. Check the link, or go "
                                "back to the overview."),
        405: ("Not possible here", "This page cannot be used this way. Go back and use the "
                                   "buttons and links on the page."),
        409: ("Conflict", "This clashes with the current state. Reload the page and check."),
        410: ("Gone", "What this page showed no longer exists."),
        413: ("Too large", "What you sent is too large."),
        422: ("Please check your input", "Some of what you entered cannot be used; "
                                         "nothing was changed:"),
        500: ("Something went wrong", "Something went wrong on our side; nothing was "
                                      "changed. Try again; if it keeps happening, tell "
                                      "whoever runs this instance."),
        503: ("Unavailable", "A service this instance needs did not answer; nothing was "
                             "changed. Try again in a minute."),
    },
    "de": {
        400: ("Fehlerhafte Anfrage", "Die Anfrage war nicht lesbar. Gehen Sie zurück und "
                                     "versuchen Sie es erneut."),
        403: ("Nicht erlaubt", "Ihre Rolle darf diese Seite nicht öffnen oder dies nicht "
                               "tun. Wenn Sie es brauchen, fragen Sie eine Inhaberin oder "
                               "einen Admin."),
        404: ("Seite nicht gefunden", "Unter dieser Adresse gibt es keine Seite. Prüfen "
                                      "Sie den Link oder gehen Sie zur Übersicht."),
        405: ("Hier nicht möglich", "Diese Seite lässt sich so nicht verwenden. Gehen Sie "
                                    "zurück und nutzen Sie die Schaltflächen und Links der "
                                    "Seite."),
        409: ("Konflikt", "Das passt nicht zum aktuellen Stand. Laden Sie die Seite neu und "
                          "prüfen Sie ihn."),
        410: ("Nicht mehr vorhanden", "Was diese Seite zeigte, gibt es nicht mehr."),
        413: ("Zu groß", "Was Sie gesendet haben, ist zu groß."),
        422: ("Bitte prüfen Sie Ihre Eingabe", "Einiges von dem, was Sie eingegeben haben, "
                                               "ist nicht verwendbar; nichts wurde "
                                               "geändert:"),
        500: ("Etwas ist schiefgegangen", "Bei uns ist etwas schiefgegangen; nichts wurde "
                                          "geändert. Versuchen Sie es erneut; wenn es "
                                          "wieder passiert, sagen Sie es den Betreibern "
                                          "dieser Instanz."),
        503: ("Nicht verfügbar", "Ein Dienst, den diese Instanz braucht, hat nicht "
                                 "geantwortet; nichts wurde geändert. Versuchen Sie es in "
                                 "einer Minute erneut."),
    },
}


def error_page(request: Request, status: int, fields: list[dict[str, str]]) -> HTMLResponse:
    """The console page for an error with `status`; `fields` names refused input."""
    texts = TEXTS.get(language(request), TEXTS["en"])
    title, text = texts.get(status, texts[500 if status >= 500 else 400])
    active = getattr(request.state, "staff_session", None)
    return page(request, "error.html", {
        "status": status, "error_title": title, "error_text": text,
        "fields": fields if status == 422 else []}, active=active, status_code=status)
