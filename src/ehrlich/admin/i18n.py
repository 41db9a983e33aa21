"""Console texts in English and German; the language comes from ?lang=, a cookie, or
the browser's Accept-Language."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("en", "de")
LANG_COOKIE = "ehrlich-lang"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "console": "Console", "sign_in": "Sign in", "email": "Email", "password": "Password",
        "sign_out": "Sign out", "continue": "Continue", "code": "Code from your app",
        "code_hint": "6 digits from your authenticator app, or one of your recovery codes.",
        "login_failed": "The email or password is not right.",
        "initial_password_expired": "This one-time password has expired. Ask an owner or "
                                    "admin for a new one (`ehrlich user reset EMAIL`).",
        "code_failed": "That code is not right or was already used.",
        "restart": "Too many wrong codes. Sign in again.",
        "captcha_needed": "There were many failed sign-ins for this account. Your browser "
                          "now does a short calculation to prove it is not a robot; when it "
                          "is done, enter your password again.",
        "captcha_working": "Checking your browser… (this needs JavaScript)",
        "captcha_done": "Check done. You can sign in now.",
        "captcha_failed": "The check failed. Reload the page.",
        "wait": "Too many attempts. Wait {seconds} seconds, then try again.",
        "enrol_title": "Set up your authenticator app",
        "enrol_intro": "Your role needs a second factor. Scan this code with an "
                       "authenticator app (for example one that supports TOTP), then enter "
                       "the 6 digits it shows.",
        "enrol_manual": "Cannot scan? Enter this key by hand:",
        "recovery_title": "Your recovery codes",
        "recovery_intro": "Each code works once if you lose your phone. Store them now "
                          "somewhere safe; they are not shown again.",
        "dashboard": "Overview", "staff": "Staff", "account": "Account",
        "posture": "Protection report", "counts": "Numbers",
        "subjects_active": "Contacts", "subjects_erased": "Erased contacts",
        "staff_active": "Staff accounts",
        "check": "Check", "finding": "Finding", "fix": "Fix",
        "role": "Role", "second_factor": "Second factor", "state": "State",
        "add_staff": "Add a staff member", "add": "Add", "disable": "Disable",
        "yes": "yes", "no": "no", "active": "active", "disabled": "disabled",
        "new_password_once": "One-time password for {email} (shown once):",
        "reauth_title": "Confirm it is you",
        "reauth_intro": "This action needs a fresh confirmation of your password"
                        " (and code).",
        "reauth_failed": "The password or code is not right.",
        "change_password": "Change password", "current_password": "Current password",
        "new_password": "New password (at least 12 characters)",
        "password_changed": "Your password was changed.",
        "must_change": "You still use the one-time password. Choose your own under Account.",
        "guide_title": "How we handle personal data",
        "guide_ack": "I have read this and will follow it",
        "form_expired": "The form expired or came from another site. Reload and try again.",
        "forbidden": "Your role may not do this.",
        "security": "Security",
        "sessions": "Sessions", "end_sessions": "Sign out on every device",
        "signed_in_at": "Signed in", "last_seen": "Last active",
        "this_session": "This session (this browser)", "end_session": "Sign out there",
        "must_change_now": "Choose your own password now. You signed in with a one-time "
                           "password; the rest of the console opens once you have replaced "
                           "it here.",
        "must_change_expires": "The one-time password stops working at {when} UTC.",
        "mail_off": "Mail is off.", "mail_turn_on": "To turn it on",
        "mail_page": "Mail settings and a test mail",
    },
    "de": {
        "console": "Konsole", "sign_in": "Anmelden", "email": "E-Mail", "password": "Passwort",
        "sign_out": "Abmelden", "continue": "Weiter", "code": "Code aus Ihrer App",
        "code_hint": "6 Ziffern aus Ihrer Authenticator-App oder einer Ihrer "
                     "Wiederherstellungscodes.",
        "login_failed": "E-Mail-Adresse oder Passwort stimmen nicht.",
        "initial_password_expired": "Dieses Einmalpasswort ist abgelaufen. Bitten Sie eine "
                                    "Inhaberin oder einen Admin um ein neues "
                                    "(`ehrlich user reset EMAIL`).",
        "code_failed": "Dieser Code stimmt nicht oder wurde schon verwendet.",
        "restart": "Zu viele falsche Codes. Bitte melden Sie sich neu an.",
        "captcha_needed": "Für dieses Konto gab es viele fehlgeschlagene Anmeldungen. Ihr "
                          "Browser rechnet jetzt kurz, um zu zeigen, dass er kein Roboter "
                          "ist; danach geben Sie Ihr Passwort erneut ein.",
        "captcha_working": "Browser wird geprüft … (dafür ist JavaScript nötig)",
        "captcha_done": "Prüfung abgeschlossen. Sie können sich jetzt anmelden.",
        "captcha_failed": "Die Prüfung ist fehlgeschlagen. Laden Sie die Seite neu.",
        "wait": "Zu viele Versuche. Warten Sie {seconds} Sekunden und versuchen Sie es erneut.",
        "enrol_title": "Authenticator-App einrichten",
        "enrol_intro": "Ihre Rolle braucht einen zweiten Faktor. Scannen Sie diesen Code mit "
                       "einer Authenticator-App (TOTP) und geben Sie die 6 angezeigten "
                       "Ziffern ein.",
        "enrol_manual": "Scannen geht nicht? Geben Sie diesen Schlüssel von Hand ein:",
        "recovery_title": "Ihre Wiederherstellungscodes",
        "recovery_intro": "Jeder Code gilt einmal, falls Sie Ihr Telefon verlieren. Bewahren "
                          "Sie sie jetzt sicher auf; sie werden nicht wieder angezeigt.",
        "dashboard": "Übersicht", "staff": "Team", "account": "Konto",
        "posture": "Schutzbericht", "counts": "Zahlen",
        "subjects_active": "Kontakte", "subjects_erased": "Gelöschte Kontakte",
        "staff_active": "Team-Konten",
        "check": "Prüfung", "finding": "Befund", "fix": "Behebung",
        "role": "Rolle", "second_factor": "Zweiter Faktor", "state": "Status",
        "add_staff": "Teammitglied hinzufügen", "add": "Hinzufügen", "disable": "Sperren",
        "yes": "ja", "no": "nein", "active": "aktiv", "disabled": "gesperrt",
        "new_password_once": "Einmal-Passwort für {email} (wird nur einmal angezeigt):",
        "reauth_title": "Bestätigen Sie, dass Sie es sind",
        "reauth_intro": "Für diese Aktion bestätigen Sie bitte erneut Ihr Passwort"
                        " (und Ihren Code).",
        "reauth_failed": "Passwort oder Code stimmen nicht.",
        "change_password": "Passwort ändern", "current_password": "Aktuelles Passwort",
        "new_password": "Neues Passwort (mindestens 12 Zeichen)",
        "password_changed": "Ihr Passwort wurde geändert.",
        "must_change": "Sie nutzen noch das Einmal-Passwort. Wählen Sie unter Konto ein "
                       "eigenes.",
        "guide_title": "Wie wir mit personenbezogenen Daten umgehen",
        "guide_ack": "Ich habe das gelesen und halte mich daran",
        "form_expired": "Das Formular ist abgelaufen oder kam von einer anderen Seite. Laden "
                        "Sie neu und versuchen Sie es erneut.",
        "forbidden": "Ihre Rolle darf das nicht.",
        "security": "Sicherheit",
        "sessions": "Sitzungen", "end_sessions": "Auf allen Geräten abmelden",
        "signed_in_at": "Angemeldet", "last_seen": "Zuletzt aktiv",
        "this_session": "Diese Sitzung (dieser Browser)", "end_session": "Dort abmelden",
        "must_change_now": "Wählen Sie jetzt Ihr eigenes Passwort. Sie haben sich mit einem "
                           "Einmal-Passwort angemeldet; der Rest der Konsole öffnet sich, "
                           "sobald Sie es hier ersetzt haben.",
        "must_change_expires": "Das Einmal-Passwort gilt bis {when} UTC.",
        "mail_off": "Mail ist aus.", "mail_turn_on": "So schalten Sie sie ein",
        "mail_page": "Mail-Einstellungen und Test-Mail",
    },
}


def language(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    accept = request.headers.get("accept-language", "")
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def translator(lang: str) -> dict[str, str]:
    return MESSAGES.get(lang, MESSAGES["en"])
