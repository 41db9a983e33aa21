"""Helpers the consent pages share: request evidence, language, texts, the origin rule."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from ehrlich.consent.schemas import Evidence
from ehrlich.settings import Settings

NO_STORE = {"Cache-Control": "no-store"}


def evidence_of(request: Request) -> Evidence:
    return Evidence(ip=request.client.host if request.client else None,
                    user_agent=(request.headers.get("user-agent") or "")[:2000] or None,
                    sec_gpc=(request.headers.get("sec-gpc") or "")[:100] or None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def page_language(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.headers.get("accept-language", "")
    return "de" if chosen.lower().startswith("de") else "en"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(settings: Settings) -> set[str]:
    return {_origin(settings.base_url)} | {_origin(o) for o in settings.signup_origins.split()}


def origin_allowed(request: Request, settings: Settings, *, cross_site: bool) -> bool:
    """Posts from our own pages always; from the listed sites when `cross_site`.

    No cookie gives these forms any authority (the token in the URL, or
    nothing, does), so there is nothing for a CSRF token to protect; the origin
    rule keeps strangers from pointing their own forms at ours. A request
    without an Origin header (old browsers, curl) is let through.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin.lower() == _origin(settings.base_url) or origin.lower() == _origin(
            str(request.base_url)):
        return True
    return cross_site and origin.lower() in allowed_origins(settings)


TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "signup_title": "Sign up", "email": "Email address", "name": "Name (optional)",
        "submit": "Sign up", "notice_link": "Privacy notice",
        "choose": "Choose what you want to receive. Nothing is ticked for you.",
        "honeypot": "Leave this field empty",
        "sent_title": "Please check your mail",
        "sent": "If the address is valid, we have sent a mail with a link. Nothing is sent "
                "to you until you follow it.",
        "gpc": "Your browser sent a Global Privacy Control signal. We honoured it: nothing "
               "that would be shared with other companies was requested.",
        "gpc_prefs": "Your browser sent a Global Privacy Control signal. We honoured it: "
                     "purposes shared with other companies are switched off.",
        "captcha": "Please wait a moment while your browser proves it is not a robot, "
                   "then send the form again.",
        "captcha_working": "Working…", "captcha_done": "Done.",
        "captcha_failed": "That did not work; please reload the page.",
        "captcha_no_script": "No JavaScript in your browser? Then send the form with this "
                             "button; we accept a few signups an hour like that from one "
                             "network.",
        "submit_no_script": "Send without JavaScript",
        "limited": "Too many signups from your network. Please try again in an hour.",
        "not_open_title": "Signup is not open yet",
        "not_open": "The privacy notice has not been published yet, so nobody can sign up. "
                    "Please come back later.",
        "closed_title": "Signups are closed",
        "closed": "Signups are closed until mail is set up: we could not send you the "
                  "confirmation link. Nothing was stored; please try again later.",
        "origin": "This form may not be sent from that site.",
        "problem": "Please correct this:", "recipients": "Shared with",
        "confirm_title": "Confirm your subscription",
        "confirm_ask": "Please confirm with the button below.", "confirm": "Confirm",
        "confirmed_title": "Thank you, confirmed",
        "confirmed": "Your consent is recorded. You can change it at any time.",
        "already_title": "Already confirmed", "already": "Nothing more is needed.",
        "invalid_title": "This link is not valid",
        "invalid": "The link is damaged or not meant for this page. Nothing was changed.",
        "expired_title": "This link has expired",
        "expired": "Nothing was changed. Please sign up again if you still want to.",
        "stale_title": "This link is no longer in use",
        "stale": "The request was cancelled, has expired or was made again. Nothing was "
                 "changed.",
        "cancel_title": "Cancel the request", "cancel_ask": "Cancel it? One click is enough.",
        "cancel": "Cancel", "cancelled_title": "Cancelled",
        "cancelled": "You will get no mails for it. Nothing else is needed.",
        "prefs_title": "Your choices", "prefs_save": "Save my choices",
        "withdraw_all": "Withdraw everything", "state": "Now",
        "saved": "Saved.", "withdrawn_all": "Everything is withdrawn.",
        "requests_title": "Your data",
        "requests": "Soon you can ask for a copy of your data or its erasure here. Until "
                    "then, write to", "proof": "Proof", "manage": "Manage your choices",
        "proof_title": "Proof of consent", "print": "Print this page to keep it.",
    },
    "de": {
        "signup_title": "Anmelden", "email": "E-Mail-Adresse", "name": "Name (freiwillig)",
        "submit": "Anmelden", "notice_link": "Datenschutzhinweise",
        "choose": "Wählen Sie, was Sie bekommen möchten. Nichts ist vorausgewählt.",
        "honeypot": "Dieses Feld bitte leer lassen",
        "sent_title": "Bitte sehen Sie in Ihr Postfach",
        "sent": "Wenn die Adresse stimmt, haben wir Ihnen eine Mail mit einem Link "
                "geschickt. Bis Sie ihm folgen, schicken wir Ihnen nichts.",
        "gpc": "Ihr Browser hat ein Global-Privacy-Control-Signal gesendet. Wir haben es "
               "beachtet: nichts, was an andere Unternehmen ginge, wurde angefragt.",
        "gpc_prefs": "Ihr Browser hat ein Global-Privacy-Control-Signal gesendet. Wir haben "
                     "es beachtet: Zwecke mit Weitergabe an andere Unternehmen sind aus.",
        "captcha": "Bitte warten Sie kurz, bis Ihr Browser belegt hat, dass er kein Roboter "
                   "ist, und senden Sie das Formular dann erneut.",
        "captcha_working": "Einen Moment…", "captcha_done": "Fertig.",
        "captcha_failed": "Das hat nicht geklappt; bitte laden Sie die Seite neu.",
        "captcha_no_script": "Kein JavaScript in Ihrem Browser? Dann senden Sie das "
                             "Formular mit dieser Schaltfläche; davon nehmen wir einige pro "
                             "Stunde aus einem Netz an.",
        "submit_no_script": "Ohne JavaScript senden",
        "limited": "Zu viele Anmeldungen aus Ihrem Netz. Bitte versuchen Sie es in einer "
                   "Stunde erneut.",
        "not_open_title": "Die Anmeldung ist noch nicht geöffnet",
        "not_open": "Die Datenschutzhinweise sind noch nicht veröffentlicht; bis dahin kann "
                    "sich niemand anmelden. Bitte kommen Sie später wieder.",
        "closed_title": "Anmeldungen sind geschlossen",
        "closed": "Anmeldungen sind geschlossen, bis der Mailversand eingerichtet ist: Wir "
                  "könnten Ihnen den Bestätigungslink nicht schicken. Nichts wurde "
                  "gespeichert; bitte versuchen Sie es später erneut.",
        "origin": "Dieses Formular darf von dieser Website nicht gesendet werden.",
        "problem": "Bitte korrigieren Sie:", "recipients": "Weitergabe an",
        "confirm_title": "Anmeldung bestätigen",
        "confirm_ask": "Bitte bestätigen Sie mit der Schaltfläche.", "confirm": "Bestätigen",
        "confirmed_title": "Danke, bestätigt",
        "confirmed": "Ihre Einwilligung ist gespeichert. Sie können sie jederzeit ändern.",
        "already_title": "Bereits bestätigt", "already": "Es ist nichts mehr zu tun.",
        "invalid_title": "Dieser Link ist ungültig",
        "invalid": "Der Link ist beschädigt oder nicht für diese Seite. Nichts wurde "
                   "geändert.",
        "expired_title": "Dieser Link ist abgelaufen",
        "expired": "Nichts wurde geändert. Melden Sie sich gern erneut an.",
        "stale_title": "Dieser Link gilt nicht mehr",
        "stale": "Die Anfrage wurde zurückgezogen, ist abgelaufen oder wurde neu gestellt. "
                 "Nichts wurde geändert.",
        "cancel_title": "Anfrage zurückziehen", "cancel_ask": "Zurückziehen? Ein Klick genügt.",
        "cancel": "Zurückziehen", "cancelled_title": "Zurückgezogen",
        "cancelled": "Sie bekommen dazu keine Mails. Sonst ist nichts zu tun.",
        "prefs_title": "Ihre Auswahl", "prefs_save": "Auswahl speichern",
        "withdraw_all": "Alles widerrufen", "state": "Jetzt",
        "saved": "Gespeichert.", "withdrawn_all": "Alles ist widerrufen.",
        "requests_title": "Ihre Daten",
        "requests": "Bald können Sie hier eine Kopie oder die Löschung Ihrer Daten verlangen. "
                    "Bis dahin schreiben Sie an", "proof": "Nachweis",
        "manage": "Auswahl verwalten",
        "proof_title": "Nachweis der Einwilligung",
        "print": "Drucken Sie diese Seite, um sie aufzubewahren.",
    },
}
STATE_LABELS = {
    "en": {"none": "off", "requested": "waiting for confirmation", "active": "on",
           "withdrawn": "off", "expired": "off (expired)", "renewal-needed": "needs renewal",
           "objected": "off (objected)"},
    "de": {"none": "aus", "requested": "wartet auf Bestätigung", "active": "an",
           "withdrawn": "aus", "expired": "aus (abgelaufen)",
           "renewal-needed": "muss erneuert werden", "objected": "aus (widersprochen)"},
}
