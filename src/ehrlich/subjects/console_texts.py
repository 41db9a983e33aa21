"""The contacts pages' texts in English and German."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Contacts", "search": "Find by exact email or phone number",
        "q_label": "Email address or phone number",
        "search_hint": "The whole address or number; nothing else is searchable, since "
                       "contacts are stored encrypted.",
        "find": "Find", "filters": "Filter the list", "purpose": "Purpose",
        "state": "Consent state", "source": "Source", "since": "Signed up from",
        "until": "Signed up until", "any": "any", "apply": "Apply", "reset": "Reset",
        "email": "Email", "phone": "Phone", "name": "Name", "created": "Signed up (UTC)",
        "none_found": "No contact matches.", "next": "Next page", "first": "First page",
        "page_note": "Newest first, 50 per page. Values are masked.",
        "bad_date": "Enter a date as YYYY-MM-DD.",
        "bad_search": "Enter a whole email address or phone number.",
        "attributes": "Attributes", "facts": "Contact", "obtained": "Obtained",
        "updated": "Last changed", "reveal": "Reveal", "reason": "Reason",
        "reveal_hint": "Why you need to see this person's data (at least 10 characters). "
                       "It is written to the audit log with your name.",
        "revealed": "Shown in full for: {reason}. This is in the audit log.",
        "hide": "Mask again",
        "timeline": "Consent timeline", "no_events": "No consent events.",
        "time": "Time (UTC)", "action": "Action", "text": "Text shown",
        "notice_version": "Notice version", "method": "Method", "evidence": "Evidence",
        "proof": "Printable proof", "network": "Network", "ua": "Browser (hash)",
        "gpc": "Global Privacy Control",
        "suppression": "Suppression", "not_suppressed": "This address is not suppressed.",
        "all_purposes": "all purposes", "since_label": "since",
        "links": "The person's own links",
        "links_hint": "Send these to the person; each works without a login.",
        "preferences_link": "Preference page", "unsubscribe_link": "Unsubscribe",
        "copy": "Copy", "copied": "Copied",
        "actions": "Actions", "rectify": "Rectify", "export": "Export (tracked copy)",
        "export_hint": "Downloads the person's data as JSON. The copy is recorded with "
                       "your name, the reason and an expiry (30 days); destroy it by then.",
        "erase": "Erase", "notes": "Notes", "add_note": "Add note", "note": "Note",
        "note_hint": "A note about this person is personal data: it is encrypted with "
                     "their data and erased with them.",
        "no_notes": "No notes.", "note_added": "The note was added.",
        "rectified": "The changes were saved.",
        "erased_title": "Erased", "erased": "This contact was erased on {date}. Their "
                                             "data can no longer be read by anyone.",
        "rectify_title": "Rectify contact",
        "rectify_hint": "Only the fields you fill in change; empty fields keep their value.",
        "attributes_json": "Attributes (JSON object, replaces all attributes)",
        "save": "Save", "cancel": "Cancel",
        "erase_title": "Erase this contact?",
        "erase_intro": "Erasure destroys this person's key: their data, notes and "
                       "attributes can never be read again, also not from backups. The "
                       "consent proof stays (it names no one) and the address stays "
                       "suppressed. This cannot be undone.",
        "erase_reason_hint": "Why (for example: the person asked; at least 10 characters).",
        "erase_confirm": "Erase for good",
        "forbidden": "Your role may not do this.",
    },
    "de": {
        "title": "Kontakte", "search": "Suche nach genauer E-Mail-Adresse oder Telefonnummer",
        "q_label": "E-Mail-Adresse oder Telefonnummer",
        "search_hint": "Die ganze Adresse oder Nummer; sonst ist nichts durchsuchbar, weil "
                       "Kontakte verschlüsselt gespeichert sind.",
        "find": "Suchen", "filters": "Liste filtern", "purpose": "Zweck",
        "state": "Einwilligungsstatus", "source": "Quelle", "since": "Angemeldet ab",
        "until": "Angemeldet bis", "any": "alle", "apply": "Anwenden",
        "reset": "Zurücksetzen",
        "email": "E-Mail", "phone": "Telefon", "name": "Name", "created": "Angemeldet (UTC)",
        "none_found": "Kein Kontakt passt.", "next": "Nächste Seite", "first": "Erste Seite",
        "page_note": "Neueste zuerst, 50 pro Seite. Werte sind maskiert.",
        "bad_date": "Geben Sie ein Datum als JJJJ-MM-TT ein.",
        "bad_search": "Geben Sie eine ganze E-Mail-Adresse oder Telefonnummer ein.",
        "attributes": "Merkmale", "facts": "Kontakt", "obtained": "Erhoben",
        "updated": "Zuletzt geändert", "reveal": "Anzeigen", "reason": "Grund",
        "reveal_hint": "Warum Sie die Daten dieser Person sehen müssen (mindestens 10 "
                       "Zeichen). Er wird mit Ihrem Namen protokolliert.",
        "revealed": "Vollständig angezeigt wegen: {reason}. Das steht im Prüfprotokoll.",
        "hide": "Wieder maskieren",
        "timeline": "Einwilligungsverlauf", "no_events": "Keine Einwilligungsereignisse.",
        "time": "Zeit (UTC)", "action": "Aktion", "text": "Gezeigter Text",
        "notice_version": "Version der Datenschutzhinweise", "method": "Weg",
        "evidence": "Nachweis", "proof": "Druckbarer Nachweis", "network": "Netz",
        "ua": "Browser (Hash)", "gpc": "Global Privacy Control",
        "suppression": "Sperrliste", "not_suppressed": "Diese Adresse ist nicht gesperrt.",
        "all_purposes": "alle Zwecke", "since_label": "seit",
        "links": "Die eigenen Links der Person",
        "links_hint": "Senden Sie sie der Person; jeder funktioniert ohne Anmeldung.",
        "preferences_link": "Einstellungsseite", "unsubscribe_link": "Abmelden",
        "copy": "Kopieren", "copied": "Kopiert",
        "actions": "Aktionen", "rectify": "Berichtigen", "export": "Exportieren "
                                                                   "(erfasste Kopie)",
        "export_hint": "Lädt die Daten der Person als JSON herunter. Die Kopie wird mit "
                       "Ihrem Namen, dem Grund und einer Frist (30 Tage) erfasst; löschen "
                       "Sie sie bis dahin.",
        "erase": "Löschen", "notes": "Notizen", "add_note": "Notiz hinzufügen",
        "note": "Notiz",
        "note_hint": "Eine Notiz über diese Person ist ein personenbezogenes Datum: sie "
                     "wird mit ihren Daten verschlüsselt und mit ihnen gelöscht.",
        "no_notes": "Keine Notizen.", "note_added": "Die Notiz wurde hinzugefügt.",
        "rectified": "Die Änderungen wurden gespeichert.",
        "erased_title": "Gelöscht", "erased": "Dieser Kontakt wurde am {date} gelöscht. "
                                              "Seine Daten kann niemand mehr lesen.",
        "rectify_title": "Kontakt berichtigen",
        "rectify_hint": "Nur ausgefüllte Felder ändern sich; leere behalten ihren Wert.",
        "attributes_json": "Merkmale (JSON-Objekt, ersetzt alle Merkmale)",
        "save": "Speichern", "cancel": "Abbrechen",
        "erase_title": "Diesen Kontakt löschen?",
        "erase_intro": "Das Löschen vernichtet den Schlüssel dieser Person: ihre Daten, "
                       "Notizen und Merkmale sind nie wieder lesbar, auch nicht aus "
                       "Sicherungen. Der Einwilligungsnachweis bleibt (er nennt niemanden) "
                       "und die Adresse bleibt gesperrt. Das lässt sich nicht rückgängig "
                       "machen.",
        "erase_reason_hint": "Warum (zum Beispiel: die Person hat darum gebeten; mindestens "
                             "10 Zeichen).",
        "erase_confirm": "Endgültig löschen",
        "forbidden": "Ihre Rolle darf das nicht.",
    },
}


def texts_for(lang: str) -> dict[str, str]:
    return TEXTS.get(lang, TEXTS["en"])
