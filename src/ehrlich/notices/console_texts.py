"""English and German texts of the notice console pages."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Notice", "versions": "Published versions", "number": "Version",
        "hash": "SHA-256", "published_at": "Published (UTC)", "publisher": "Published by",
        "diff": "Changes", "show_diff": "changes", "none_published": "No version is published "
        "yet. Write the notice in the draft and publish it.",
        "diff_title": "Changes in version {number}", "no_changes": "No changes.",
        "back": "Back to the versions",
        "draft": "Draft", "edit_draft": "Edit the draft", "draft_hint": "The notice as YAML "
        "(docs/notices.md names every key). Saving checks it: problems are listed beside "
        "their lines below.", "save_check": "Save and check",
        "saved": "Draft saved by {who} at {when} UTC.", "not_saved": "Not saved yet: this "
        "text is the published version (or the example).",
        "findings": "Findings", "no_findings": "The check found nothing to fix.",
        "errors_count": "{errors} errors, {total} findings in all. Errors block publishing.",
        "line": "Line", "text": "Text", "checked_text": "The checked text, line by line",
        "severity.error": "error", "severity.warning": "warning",
        "preview_en": "Preview in English", "preview_de": "Preview in German",
        "preview_banner": "Preview of the draft: not published. Visitors still see the "
        "published version.", "publish": "Publish…",
        "publish_title": "Publish the draft", "publish_blocked": "The draft cannot be "
        "published until its errors are fixed.",
        "unchanged": "The draft says the same as the published version {number}; publishing "
        "would change nothing.",
        "impact": "Publishing creates version {number}.",
        "renewals": "{count} people's consent will need renewal: it stops counting until "
        "they confirm again.", "no_renewals": "No consent needs renewal.",
        "widened": "Purposes that widen", "reason": "Why",
        "confirm_publish": "Publish version {number}",
        "draft_changed": "The draft changed since this page was shown; check the impact "
        "again.", "published": "Version {number} is published.",
        "published_same": "Nothing new was published: version {number} already says this.",
        "renewals_marked": "{count} people's consent was marked for renewal.",
        "embed": "Signup form on your website", "embed_iframe": "Embed (iframe)",
        "embed_iframe_hint": "Works from any page: the form, its checks and the CAPTCHA "
        "stay on this server. The sites allowed to frame it are set in signup_origins "
        "(now: {origins}).", "embed_form": "Plain HTML form",
        "embed_form_hint": "A form on your own page that posts to {action}. Browsers send "
        "the page's origin with the post; this server accepts it only from its own pages "
        "and from the origins in signup_origins (now: {origins}); from anywhere else the "
        "post is refused. The form carries the notice version and the exact consent texts "
        "of version {number}: copy it again after each publish, or signups are refused as "
        "made under an old notice.", "copy_snippet": "Copy", "anywhere": "any https site",
        "no_origins": "none: only this server's own pages",
        "branding": "Branding", "branding_hint": "How the public pages name your business. "
        "Until you save here they show the controller from the notice.",
        "brand_name": "Name", "brand_contact": "Contact line (footer)",
        "brand_accent": "Accent colour (#rrggbb, at least 4.5:1 against white)",
        "brand_logo": "Logo (PNG or WebP, at most 200 KB)", "remove_logo": "Remove the logo",
        "save": "Save", "branding_saved": "Branding saved.",
        "form_expired": "The form expired or came from another site. Reload and try again.",
        "problem": "Please fix the marked fields.",
    },
    "de": {
        "title": "Datenschutzhinweise", "versions": "Veröffentlichte Fassungen",
        "number": "Fassung", "hash": "SHA-256", "published_at": "Veröffentlicht (UTC)",
        "publisher": "Veröffentlicht von", "diff": "Änderungen", "show_diff": "Änderungen",
        "none_published": "Noch keine Fassung veröffentlicht. Schreiben Sie die Hinweise im "
        "Entwurf und veröffentlichen Sie sie.",
        "diff_title": "Änderungen in Fassung {number}", "no_changes": "Keine Änderungen.",
        "back": "Zurück zu den Fassungen",
        "draft": "Entwurf", "edit_draft": "Entwurf bearbeiten", "draft_hint": "Die Hinweise "
        "als YAML (docs/notices.md nennt jeden Schlüssel). Beim Speichern wird geprüft; "
        "Befunde stehen unten neben ihren Zeilen.", "save_check": "Speichern und prüfen",
        "saved": "Entwurf gespeichert von {who} um {when} UTC.", "not_saved": "Noch nicht "
        "gespeichert: Dieser Text ist die veröffentlichte Fassung (oder das Beispiel).",
        "findings": "Befunde", "no_findings": "Die Prüfung hat nichts zu beanstanden.",
        "errors_count": "{errors} Fehler, {total} Befunde insgesamt. Fehler verhindern die "
        "Veröffentlichung.",
        "line": "Zeile", "text": "Text", "checked_text": "Der geprüfte Text, Zeile für Zeile",
        "severity.error": "Fehler", "severity.warning": "Warnung",
        "preview_en": "Vorschau auf Englisch", "preview_de": "Vorschau auf Deutsch",
        "preview_banner": "Vorschau des Entwurfs: nicht veröffentlicht. Besucher sehen "
        "weiterhin die veröffentlichte Fassung.", "publish": "Veröffentlichen …",
        "publish_title": "Entwurf veröffentlichen", "publish_blocked": "Der Entwurf kann erst "
        "veröffentlicht werden, wenn seine Fehler behoben sind.",
        "unchanged": "Der Entwurf sagt dasselbe wie die veröffentlichte Fassung {number}; "
        "eine Veröffentlichung würde nichts ändern.",
        "impact": "Die Veröffentlichung erzeugt Fassung {number}.",
        "renewals": "Die Einwilligung von {count} Personen muss erneuert werden: Sie zählt "
        "nicht mehr, bis sie erneut bestätigen.",
        "no_renewals": "Keine Einwilligung muss erneuert werden.",
        "widened": "Zwecke, die sich erweitern", "reason": "Warum",
        "confirm_publish": "Fassung {number} veröffentlichen",
        "draft_changed": "Der Entwurf hat sich geändert, seit diese Seite angezeigt wurde; "
        "prüfen Sie die Auswirkungen erneut.", "published": "Fassung {number} ist "
        "veröffentlicht.", "published_same": "Nichts Neues veröffentlicht: Fassung {number} "
        "sagt bereits dasselbe.",
        "renewals_marked": "Die Einwilligung von {count} Personen wurde zur Erneuerung "
        "markiert.",
        "embed": "Anmeldeformular auf Ihrer Website", "embed_iframe": "Einbetten (iframe)",
        "embed_iframe_hint": "Funktioniert auf jeder Seite: Formular, Prüfungen und CAPTCHA "
        "bleiben auf diesem Server. Welche Websites es einbetten dürfen, steht in "
        "signup_origins (jetzt: {origins}).", "embed_form": "Einfaches HTML-Formular",
        "embed_form_hint": "Ein Formular auf Ihrer eigenen Seite, das an {action} sendet. "
        "Browser schicken die Herkunft der Seite mit; dieser Server nimmt sie nur von "
        "seinen eigenen Seiten und den Herkünften in signup_origins an (jetzt: {origins}); "
        "von überall sonst wird sie abgelehnt. Das Formular enthält die Fassung und die "
        "genauen Einwilligungstexte der Fassung {number}: Kopieren Sie es nach jeder "
        "Veröffentlichung neu, sonst werden Anmeldungen als unter alten Hinweisen "
        "abgelehnt.", "copy_snippet": "Kopieren", "anywhere": "jede https-Website",
        "no_origins": "keine: nur die eigenen Seiten dieses Servers",
        "branding": "Erscheinungsbild", "branding_hint": "Wie die öffentlichen Seiten Ihr "
        "Unternehmen nennen. Bis Sie hier speichern, zeigen sie den Verantwortlichen aus "
        "den Hinweisen.",
        "brand_name": "Name", "brand_contact": "Kontaktzeile (Fußzeile)",
        "brand_accent": "Akzentfarbe (#rrggbb, mindestens 4,5:1 gegen Weiß)",
        "brand_logo": "Logo (PNG oder WebP, höchstens 200 KB)",
        "remove_logo": "Logo entfernen", "save": "Speichern",
        "branding_saved": "Erscheinungsbild gespeichert.",
        "form_expired": "Das Formular ist abgelaufen oder kam von einer anderen Seite. Laden "
        "Sie neu und versuchen Sie es erneut.",
        "problem": "Bitte korrigieren Sie die markierten Felder.",
    },
}


def texts(lang: str) -> dict[str, str]:
    return TEXTS.get(lang, TEXTS["en"])
