"""The public `/security` page: how people's data is protected and how to recognise
genuine mail from the organisation (English and German)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)

TEXT: dict[str, dict[str, object]] = {
    "en": {
        "title": "How your data is protected",
        "sections": [
            ("Encrypted, field by field",
             "Your email address, name, phone number and other details are encrypted "
             "before they are stored, each person with their own key. When you ask us to "
             "erase your data, that key is destroyed, so the data can no longer be read "
             "anywhere, backups included."),
            ("Only the staff who need it",
             "Staff sign in with a long password and, for administrators, a code from an "
             "authenticator app. Each role sees only what its work needs; looking at a "
             "person's details requires a stated reason, and every access is recorded in "
             "a tamper-evident log."),
            ("No third parties on our pages",
             "These pages load nothing from other companies: no trackers, no fonts, no "
             "analytics. The check that keeps robots out runs in your own browser."),
            ("How to recognise our mail",
             "Our mail never asks for a password or a payment. Every marketing mail has a "
             "one-click unsubscribe link. If in doubt, open this site yourself instead of "
             "following a link, and manage your preferences there."),
        ],
    },
    "de": {
        "title": "Wie Ihre Daten geschützt sind",
        "sections": [
            ("Verschlüsselt, Feld für Feld",
             "Ihre E-Mail-Adresse, Ihr Name, Ihre Telefonnummer und weitere Angaben werden "
             "vor dem Speichern verschlüsselt, für jede Person mit eigenem Schlüssel. Wenn "
             "Sie die Löschung verlangen, wird dieser Schlüssel vernichtet; die Daten sind "
             "dann nirgends mehr lesbar, auch nicht in Sicherungen."),
            ("Nur für die Mitarbeitenden, die sie brauchen",
             "Mitarbeitende melden sich mit einem langen Passwort an, Administratoren "
             "zusätzlich mit einem Code aus einer Authenticator-App. Jede Rolle sieht nur, "
             "was ihre Arbeit erfordert; wer die Angaben einer Person ansieht, muss einen "
             "Grund nennen, und jeder Zugriff wird fälschungssicher protokolliert."),
            ("Keine Dritten auf unseren Seiten",
             "Diese Seiten laden nichts von anderen Firmen: keine Tracker, keine Schriften, "
             "keine Analyse. Die Prüfung gegen Roboter läuft in Ihrem eigenen Browser."),
            ("So erkennen Sie unsere E-Mails",
             "Wir fragen per E-Mail nie nach Passwörtern oder Zahlungen. Jede Werbe-Mail "
             "hat einen Abmeldelink, der mit einem Klick wirkt. Im Zweifel öffnen Sie diese "
             "Seite selbst, statt einem Link zu folgen, und verwalten dort Ihre "
             "Einstellungen."),
        ],
    },
}


@router.get("/security", response_class=HTMLResponse)
def security(request: Request, lang: str | None = None) -> HTMLResponse:
    if lang not in TEXT:
        accept = request.headers.get("accept-language", "").lower()
        lang = "de" if accept.startswith("de") else "en"
    return render(request, "security.html", {"lang": lang, **TEXT[lang]})
