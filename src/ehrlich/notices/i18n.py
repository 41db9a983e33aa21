"""Fixed wording around the notice's own texts, in every supported language.

The notice file supplies what is specific to the business; these are the
headings, labels and the statement of rights that every notice carries.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "Privacy notice",
        "summary": "In short",
        "what": "What we keep",
        "why": "Why",
        "who_else": "Who else gets it",
        "who_else_none": "Nobody outside our company.",
        "how_long": "How long",
        "rights": "Your rights",
        "opt_out": "How to say no",
        "details": "In detail",
        "controller": "Who is responsible",
        "contact": "Contact",
        "dpo": "Data protection officer",
        "authority": "Supervisory authority",
        "purposes": "Purposes",
        "legal_basis": "Legal basis",
        "legitimate_interest": "Our legitimate interest",
        "data": "Data",
        "channel": "Channel",
        "retention": "Kept for",
        "backups": "Encrypted backups hold copies for at most {days} days. When a backup "
                   "is restored, everyone who asked for erasure is erased again.",
        "recipients": "Recipients",
        "consent_text": "What you agree to",
        "recipient_list": "Recipients in detail",
        "name": "Name",
        "role": "Role",
        "country": "Country",
        "safeguards": "Safeguards for transfers",
        "versions": "Versions",
        "version": "Version {number}, published {date}",
        "fingerprint": "SHA-256 fingerprint",
        "this_version": "this version",
        "current_version": "current version",
        "older_version": ("This is an older version. "
                          "The current notice may say something different."),
        "machine_readable": "Machine-readable",
        "language": "Language",
        "none": "none",
        "rights_text": ("You can ask us at any time which data we hold about you and get a copy. "
                        "You can have wrong data corrected and ask us to erase your data. "
                        "You can object to processing based on our legitimate interest, "
                        "and always to direct marketing. You can complain to a supervisory "
                        "authority."),
        "opt_out_text": ("Consent is voluntary. You can withdraw it at any time, as easily as you "
                         "gave it: with the unsubscribe link in every message, or by writing to "
                         "{contact}. Withdrawing does not make earlier processing unlawful."),
        "not_published": "No privacy notice has been published yet.",
        "processor": "processor (works on our behalf)",
        "role.processor": "processor", "role.controller": "controller",
        "controller_role": "controller (decides for itself)",
        "basis.consent": "your consent (Art. 6(1)(a) GDPR)",
        "basis.contract": "our contract with you (Art. 6(1)(b) GDPR)",
        "basis.legal_obligation": "a legal obligation (Art. 6(1)(c) GDPR)",
        "basis.legitimate_interest": "our legitimate interest (Art. 6(1)(f) GDPR)",
        "channel.email": "email", "channel.sms": "text message", "channel.phone": "phone",
        "channel.post": "post", "channel.web": "website", "channel.none": "none",
        "unit.day": "day", "unit.days": "days", "unit.week": "week", "unit.weeks": "weeks",
        "unit.month": "month", "unit.months": "months", "unit.year": "year",
        "unit.years": "years",
        "data_subjects": "customers and prospects",
    },
    "de": {
        "page_title": "Datenschutzhinweise",
        "summary": "Kurz gesagt",
        "what": "Was wir speichern",
        "why": "Wozu",
        "who_else": "Wer sie noch bekommt",
        "who_else_none": "Niemand außerhalb unseres Unternehmens.",
        "how_long": "Wie lange",
        "rights": "Ihre Rechte",
        "opt_out": "So sagen Sie Nein",
        "details": "Im Einzelnen",
        "controller": "Wer verantwortlich ist",
        "contact": "Kontakt",
        "dpo": "Datenschutzbeauftragte Person",
        "authority": "Aufsichtsbehörde",
        "purposes": "Zwecke",
        "legal_basis": "Rechtsgrundlage",
        "legitimate_interest": "Unser berechtigtes Interesse",
        "data": "Daten",
        "channel": "Kanal",
        "retention": "Gespeichert für",
        "backups": "Verschlüsselte Sicherungskopien enthalten Daten höchstens {days} Tage "
                   "lang. Wird eine Sicherung zurückgespielt, werden alle, die eine Löschung "
                   "verlangt haben, erneut gelöscht.",
        "recipients": "Empfänger",
        "consent_text": "Worin Sie einwilligen",
        "recipient_list": "Empfänger im Einzelnen",
        "name": "Name",
        "role": "Rolle",
        "country": "Land",
        "safeguards": "Garantien für Übermittlungen",
        "versions": "Versionen",
        "version": "Version {number}, veröffentlicht am {date}",
        "fingerprint": "SHA-256-Fingerabdruck",
        "this_version": "diese Version",
        "current_version": "aktuelle Version",
        "older_version": ("Dies ist eine ältere Version. "
                          "Die aktuellen Hinweise können anders lauten."),
        "machine_readable": "Maschinenlesbar",
        "language": "Sprache",
        "none": "keine",
        "rights_text": ("Sie können uns jederzeit fragen, welche Daten wir über Sie speichern, und "
                        "eine Kopie bekommen. Sie können falsche Daten berichtigen und Ihre Daten "
                        "löschen lassen. Sie können der Verarbeitung aufgrund unseres berechtigten "
                        "Interesses widersprechen, der Direktwerbung immer. Sie können sich bei "
                        "einer Aufsichtsbehörde beschweren."),
        "opt_out_text": ("Die Einwilligung ist freiwillig. Sie können sie jederzeit so einfach "
                         "widerrufen, wie Sie sie gegeben haben: mit dem Abmeldelink in jeder "
                         "Nachricht oder mit einer Nachricht an {contact}. Der Widerruf macht "
                         "die Verarbeitung bis dahin nicht rechtswidrig."),
        "not_published": "Es sind noch keine Datenschutzhinweise veröffentlicht.",
        "processor": "Auftragsverarbeiter (arbeitet in unserem Auftrag)",
        "role.processor": "Auftragsverarbeiter", "role.controller": "Verantwortlicher",
        "controller_role": "Verantwortlicher (entscheidet selbst)",
        "basis.consent": "Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)",
        "basis.contract": "unser Vertrag mit Ihnen (Art. 6 Abs. 1 lit. b DSGVO)",
        "basis.legal_obligation": "eine rechtliche Pflicht (Art. 6 Abs. 1 lit. c DSGVO)",
        "basis.legitimate_interest": "unser berechtigtes Interesse (Art. 6 Abs. 1 lit. f DSGVO)",
        "channel.email": "E-Mail", "channel.sms": "SMS", "channel.phone": "Telefon",
        "channel.post": "Post", "channel.web": "Website", "channel.none": "keiner",
        "unit.day": "Tag", "unit.days": "Tage", "unit.week": "Woche", "unit.weeks": "Wochen",
        "unit.month": "Monat", "unit.months": "Monate", "unit.year": "Jahr",
        "unit.years": "Jahre",
        "data_subjects": "Kundinnen, Kunden und Interessenten",
    },
}
SUPPORTED = tuple(STRINGS)
DEFAULT_LANGUAGE = "en"


def strings(lang: str) -> Mapping[str, str]:
    return STRINGS.get(lang, STRINGS[DEFAULT_LANGUAGE])


def pick_language(accept_language: str | None, offered: tuple[str, ...] = SUPPORTED) -> str:
    """The best offered language for an Accept-Language header (RFC 9110 §12.5.4)."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, part in enumerate((accept_language or "").split(",")):
        fields = part.strip().split(";")
        tag = fields[0].strip().lower()
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in offered and q > 0 and q - position * 1e-6 > best_q:
            best, best_q = primary, q - position * 1e-6
    return best


def duration_text(amount: int, unit: str, lang: str) -> str:
    words = strings(lang)
    return f"{amount} {words[f'unit.{unit}' if amount == 1 else f'unit.{unit}s']}"
