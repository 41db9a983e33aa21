"""The import pages' words, in English and German."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Import", "upload_title": "Import a list",
        "upload_hint": "A CSV file as a spreadsheet saves it: UTF-8 or Excel CSV, columns "
                       "separated by ; or ,. The first line names the columns.",
        "file": "CSV file", "upload": "Upload and choose columns",
        "recent": "Recent imports", "none_yet": "No imports yet.",
        "started": "Started", "status": "Status", "rows": "Rows",
        "step_columns": "Step 1 of 3: columns",
        "read_as": "Read as {encoding} with “{delimiter}” between columns: {rows} rows.",
        "cp1252": "The file is not UTF-8, so it was read as Windows-1252 (Excel). Check that "
                  "umlauts and accents look right below.",
        "preview": "The first rows", "email": "Email address", "name": "Name",
        "phone": "Phone number", "not_in_file": "— not in the file —",
        "attributes": "Keep these columns as attributes", "next": "Next",
        "step_evidence": "Step 2 of 3: consent evidence",
        "evidence_hint": "Rows with a consent source come in with the consent they gave "
                         "(recorded as “import with evidence”). Rows without one come in "
                         "without marketing consent.",
        "source": "Where the list came from", "source_hint": "e.g. “Old shop, customers "
                  "2019–2024” (shown to people who ask, GDPR Art. 14)",
        "purpose": "Consent purpose", "language": "Language of the consent text",
        "source_column": "Column with the consent source", "no_evidence": "— no evidence —",
        "date_column": "Column with the consent date", "none": "— none —",
        "version_column": "Column with the notice version",
        "text_column": "Column with the consent text shown",
        "notice_version": "Notice version shown (empty: the published one)",
        "ask_again": "Send a re-permission mail (double opt-in with the published text) to "
                     "new contacts without evidence",
        "mail_off": "Mail is off, so no re-permission mail can be sent.",
        "no_notice": "No notice is published yet: rows cannot be imported with consent.",
        "step_confirm": "Step 3 of 3: confirm",
        "would_reject": "{n} rows will be rejected (you can download the list afterwards).",
        "ask_again_on": "New contacts without evidence get a re-permission mail.",
        "ask_again_off": "No mail is sent.", "start": "Start the import",
        "progress": "Import", "done_of": "{done} of {total} rows",
        "state_draft": "not started", "state_ready": "waiting", "state_running": "running",
        "state_done": "done", "state_failed": "stopped",
        "refresh": "Refresh", "created": "New contacts", "merged": "Merged into known contacts",
        "suppressed": "Skipped: unsubscribed or erased", "rejected": "Rejected",
        "with_evidence": "With consent evidence", "asked_again": "Re-permission mails",
        "report": "Rejected rows", "download": "Download the rejected rows (CSV)",
        "report_hint": "Row numbers count as your spreadsheet does (the first line is row 1). "
                       "The report names the column and the reason, never the values.",
        "row": "Row", "column": "Column", "reason": "Reason",
        "expired": "The form expired; go back and try again.",
        "failed": "The import stopped: {failure}", "continue": "Continue",
    },
    "de": {
        "title": "Import", "upload_title": "Eine Liste importieren",
        "upload_hint": "Eine CSV-Datei, wie eine Tabellenkalkulation sie speichert: UTF-8 "
                       "oder Excel-CSV, Spalten durch ; oder , getrennt. Die erste Zeile "
                       "nennt die Spalten.",
        "file": "CSV-Datei", "upload": "Hochladen und Spalten wählen",
        "recent": "Letzte Importe", "none_yet": "Noch keine Importe.",
        "started": "Begonnen", "status": "Stand", "rows": "Zeilen",
        "step_columns": "Schritt 1 von 3: Spalten",
        "read_as": "Gelesen als {encoding}, Spalten durch „{delimiter}“ getrennt: {rows} "
                   "Zeilen.",
        "cp1252": "Die Datei ist kein UTF-8 und wurde daher als Windows-1252 (Excel) gelesen. "
                  "Prüfen Sie unten, ob Umlaute richtig aussehen.",
        "preview": "Die ersten Zeilen", "email": "E-Mail-Adresse", "name": "Name",
        "phone": "Telefonnummer", "not_in_file": "— nicht in der Datei —",
        "attributes": "Diese Spalten als Merkmale behalten", "next": "Weiter",
        "step_evidence": "Schritt 2 von 3: Nachweis der Einwilligung",
        "evidence_hint": "Zeilen mit einer Quelle der Einwilligung kommen mit dieser "
                         "Einwilligung herein („Import mit Nachweis“). Zeilen ohne kommen "
                         "ohne Werbeeinwilligung herein.",
        "source": "Woher die Liste stammt", "source_hint": "z. B. „Alter Shop, Kunden "
                  "2019–2024“ (wird Auskunftsuchenden genannt, DSGVO Art. 14)",
        "purpose": "Zweck der Einwilligung", "language": "Sprache des Einwilligungstexts",
        "source_column": "Spalte mit der Quelle der Einwilligung",
        "no_evidence": "— kein Nachweis —",
        "date_column": "Spalte mit dem Datum der Einwilligung", "none": "— keine —",
        "version_column": "Spalte mit der Version der Datenschutzhinweise",
        "text_column": "Spalte mit dem gezeigten Einwilligungstext",
        "notice_version": "Gezeigte Version der Hinweise (leer: die veröffentlichte)",
        "ask_again": "Neuen Kontakten ohne Nachweis eine Bitte um Einwilligung senden "
                     "(Double-Opt-in mit dem veröffentlichten Text)",
        "mail_off": "Mail ist aus; es kann keine Bitte um Einwilligung gesendet werden.",
        "no_notice": "Noch keine Datenschutzhinweise veröffentlicht: Zeilen können nicht "
                     "mit Einwilligung importiert werden.",
        "step_confirm": "Schritt 3 von 3: bestätigen",
        "would_reject": "{n} Zeilen werden abgelehnt (die Liste können Sie danach "
                        "herunterladen).",
        "ask_again_on": "Neue Kontakte ohne Nachweis erhalten eine Bitte um Einwilligung.",
        "ask_again_off": "Es wird keine Mail gesendet.", "start": "Import starten",
        "progress": "Import", "done_of": "{done} von {total} Zeilen",
        "state_draft": "nicht begonnen", "state_ready": "wartet", "state_running": "läuft",
        "state_done": "fertig", "state_failed": "angehalten",
        "refresh": "Aktualisieren", "created": "Neue Kontakte",
        "merged": "Mit bekannten Kontakten zusammengeführt",
        "suppressed": "Übersprungen: abgemeldet oder gelöscht", "rejected": "Abgelehnt",
        "with_evidence": "Mit Nachweis der Einwilligung",
        "asked_again": "Bitten um Einwilligung",
        "report": "Abgelehnte Zeilen", "download": "Abgelehnte Zeilen herunterladen (CSV)",
        "report_hint": "Die Zeilennummern zählen wie Ihre Tabelle (die erste Zeile ist 1). "
                       "Der Bericht nennt Spalte und Grund, nie die Werte.",
        "row": "Zeile", "column": "Spalte", "reason": "Grund",
        "expired": "Das Formular ist abgelaufen; gehen Sie zurück und versuchen Sie es "
                   "erneut.",
        "failed": "Der Import wurde angehalten: {failure}", "continue": "Fortsetzen",
    },
}


def texts_for(lang: str) -> dict[str, str]:
    return TEXTS.get(lang, TEXTS["en"])
