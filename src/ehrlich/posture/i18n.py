"""The posture report in the reader's language.

Checks write their texts in English, as templates with named fields; this module
holds the translations, keyed by the English text (as a gettext catalogue would be),
and fills the fields in. A text without a translation is shown in English.
"""

from __future__ import annotations

from collections.abc import Mapping

STATUS_LABELS: dict[str, dict[str, str]] = {
    "en": {"pass": "pass", "warn": "warn", "fail": "fail"},
    "de": {"pass": "in Ordnung", "warn": "Warnung", "fail": "Fehler"},
}

GERMAN: dict[str, str] = {
    # titles
    "Mail is sent": "Mails werden versandt",
    "mail is off: no SMTP server is configured, so nothing is sent, not even the "
    "confirmation mail a signup needs":
        "Der Mailversand ist aus: Es ist kein SMTP-Server eingerichtet, also wird nichts "
        "versandt, nicht einmal die Bestätigungsmail, die eine Anmeldung braucht",
    "set EHRLICH_SMTP_HOST and EHRLICH_SMTP_FROM (smtp_host and smtp_from in "
    "ehrlich.toml; see docs/mail.md), restart, then send a test mail from the "
    "console's Mail page":
        "EHRLICH_SMTP_HOST und EHRLICH_SMTP_FROM setzen (smtp_host und smtp_from in "
        "ehrlich.toml; siehe docs/mail.md), neu starten und dann auf der Seite „Mail“ der "
        "Konsole eine Testmail senden",
    "mail goes to {server} (TLS: {tls}) from {sender}":
        "Mails gehen an {server} (TLS: {tls}) von {sender}",
    "Key file is outside the data directory and private":
        "Die Schlüsseldatei liegt außerhalb des Datenverzeichnisses und ist privat",
    "Served over HTTPS with secure cookies": "Auslieferung über HTTPS mit sicheren Cookies",
    "No default or weak secrets": "Keine voreingestellten oder schwachen Passwörter",
    "Client addresses come only from trusted proxies":
        "Client-Adressen kommen nur von vertrauenswürdigen Proxys",
    "Audit chain verifies": "Die Audit-Kette ist unversehrt",
    "Every staff account has a second factor":
        "Jedes Team-Konto hat einen zweiten Faktor",
    "No account still uses its initial password":
        "Kein Konto nutzt noch sein Anfangspasswort",
    "A backup from the last two days was verified":
        "Eine Sicherung der letzten zwei Tage wurde geprüft",
    "The backup recovery identity is kept off this machine":
        "Der Wiederherstellungsschlüssel der Sicherungen liegt nicht auf diesem Rechner",
    "Unsubscribe requests sent by mail are read":
        "Abmeldungen per E-Mail werden gelesen",
    "A notice is published and lints clean":
        "Eine Datenschutzerklärung ist veröffentlicht und ohne Beanstandung",
    # instance checks
    "{path} (mode {mode})": "{path} (Modus {mode})",
    "the key file {path} is missing": "die Schlüsseldatei {path} fehlt",
    "restore it from your key backup and set EHRLICH_KEY_FILE":
        "stellen Sie sie aus Ihrer Schlüsselsicherung wieder her und setzen Sie "
        "EHRLICH_KEY_FILE",
    "the key file {path} is inside the data directory, so every copy of the data carries "
    "its key": "die Schlüsseldatei {path} liegt im Datenverzeichnis, also enthält jede Kopie "
               "der Daten auch ihren Schlüssel",
    "move it elsewhere (e.g. /etc/ehrlich/) and set key_file in {data_dir}/ehrlich.toml":
        "verschieben Sie sie an einen anderen Ort (z. B. /etc/ehrlich/) und setzen Sie "
        "key_file in {data_dir}/ehrlich.toml",
    "the key file is readable by others (mode {mode})":
        "die Schlüsseldatei ist für andere lesbar (Modus {mode})",
    "chmod 600 {path}": "chmod 600 {path}",
    "base_url is {base_url}: cookies are __Host- and Secure, HSTS is sent":
        "base_url ist {base_url}: Cookies sind __Host- und Secure, HSTS wird gesendet",
    "served over plain HTTP on this machine only; cookies are not marked Secure":
        "nur auf diesem Rechner über unverschlüsseltes HTTP erreichbar; Cookies sind nicht "
        "als Secure markiert",
    "put ehrlich behind a TLS reverse proxy and set base_url = \"https://your.domain\" "
    "(EHRLICH_BASE_URL) before anyone else uses it":
        "stellen Sie ehrlich hinter einen TLS-Reverse-Proxy und setzen Sie base_url = "
        "\"https://ihre.domain\" (EHRLICH_BASE_URL), bevor jemand anderes es nutzt",
    "served publicly over plain HTTP ({base_url}); passwords and session cookies travel "
    "readable": "öffentlich über unverschlüsseltes HTTP erreichbar ({base_url}); Passwörter "
                "und Sitzungs-Cookies werden lesbar übertragen",
    "put ehrlich behind a TLS reverse proxy and set base_url = \"https://your.domain\" "
    "(EHRLICH_BASE_URL)": "stellen Sie ehrlich hinter einen TLS-Reverse-Proxy und setzen "
                          "Sie base_url = \"https://ihre.domain\" (EHRLICH_BASE_URL)",
    "the database password is empty or a default":
        "das Datenbank-Passwort ist leer oder voreingestellt",
    "Redis on another host has no or a default password":
        "Redis auf einem anderen Rechner hat kein oder ein voreingestelltes Passwort",
    "the database password is empty or a default; Redis on another host has no or a "
    "default password": "das Datenbank-Passwort ist leer oder voreingestellt; Redis auf "
                        "einem anderen Rechner hat kein oder ein voreingestelltes Passwort",
    "set a long random password (e.g. `openssl rand -base64 24`) on the server and in "
    "EHRLICH_DATABASE_URL / EHRLICH_REDIS_URL":
        "setzen Sie ein langes Zufallspasswort (z. B. `openssl rand -base64 24`) auf dem "
        "Server und in EHRLICH_DATABASE_URL / EHRLICH_REDIS_URL",
    "secrets come from the key file; no default passwords found":
        "Geheimnisse kommen aus der Schlüsseldatei; keine voreingestellten Passwörter gefunden",
    "X-Forwarded-For is believed from any address, so an attacker can choose the address "
    "that throttling counts": "X-Forwarded-For wird von jeder Adresse geglaubt, also kann "
                              "ein Angreifer die Adresse wählen, die die Bremse zählt",
    "set trusted_proxies to your reverse proxy's address":
        "setzen Sie trusted_proxies auf die Adresse Ihres Reverse-Proxys",
    "forwarded headers believed only from {proxies}":
        "weitergeleitete Header werden nur von {proxies} geglaubt",
    "{count} entries verified": "{count} Einträge geprüft",
    "restore the database from the last verified backup and investigate who had write "
    "access; `ehrlich audit verify` names the entry":
        "stellen Sie die Datenbank aus der letzten geprüften Sicherung wieder her und klären "
        "Sie, wer Schreibzugriff hatte; `ehrlich audit verify` nennt den Eintrag",
    "fix the error above and run the report again":
        "beheben Sie den Fehler oben und erstellen Sie den Bericht erneut",
    # staff access
    "there is no owner account": "es gibt kein Inhaber-Konto",
    "create one: ehrlich user add --role owner you@example.org":
        "legen Sie eines an: ehrlich user add --role owner sie@example.org",
    "{count} account(s) without the required second factor: {emails}":
        "{count} Konto/Konten ohne den nötigen zweiten Faktor: {emails}",
    "sign in at /admin: the console asks them to set up an authenticator app before "
    "anything else": "melden Sie sich unter /admin an: die Konsole verlangt zuerst die "
                     "Einrichtung einer Authenticator-App",
    "{count} active staff account(s), every role uses TOTP":
        "{count} aktive(s) Team-Konto/Konten, alle Rollen nutzen TOTP",
    "the {roles} role(s) may sign in with a password alone, though every role can read "
    "personal data":
        "die Rolle(n) {roles} können sich allein mit Passwort anmelden, obwohl jede Rolle "
        "personenbezogene Daten lesen kann",
    "set second_factor_for_all_roles = true in ehrlich.toml (the default)":
        "second_factor_for_all_roles = true in ehrlich.toml setzen (die Voreinstellung)",
    "still on the password printed by `ehrlich init` or `ehrlich user`: {emails}":
        "noch mit dem von `ehrlich init` oder `ehrlich user` ausgegebenen Passwort: {emails}",
    "sign in and choose a new password under Account":
        "melden Sie sich an und wählen Sie unter Konto ein neues Passwort",
    "every account has chosen its own password":
        "jedes Konto hat sein eigenes Passwort gewählt",
    # backups
    "no complete backup at {where} yet": "noch keine vollständige Sicherung unter {where}",
    "run `ehrlich backup create --verify` and keep a worker running for the scheduled "
    "backups": "führen Sie `ehrlich backup create --verify` aus und lassen Sie einen Worker "
               "für die geplanten Sicherungen laufen",
    "the newest backup is from {when} UTC": "die neueste Sicherung ist vom {when} UTC",
    "check that a worker runs (`ehrlich worker` or `ehrlich serve`) and the logs of the job "
    "backup.scheduled": "prüfen Sie, ob ein Worker läuft (`ehrlich worker` oder `ehrlich "
                        "serve`), und die Protokolle des Jobs backup.scheduled",
    "backup {backup_id} was never verified": "Sicherung {backup_id} wurde nie geprüft",
    "backup {backup_id} failed verification":
        "Sicherung {backup_id} hat die Prüfung nicht bestanden",
    "run `ehrlich backup verify {backup_id}`": "führen Sie `ehrlich backup verify "
                                               "{backup_id}` aus",
    "backup {backup_id} verified; {count} backups at {where}":
        "Sicherung {backup_id} geprüft; {count} Sicherungen unter {where}",
    "{path} is still on this machine: whoever takes the machine can open every backup "
    "with it": "{path} liegt noch auf diesem Rechner: wer den Rechner hat, kann damit jede "
               "Sicherung öffnen",
    "copy it to offline storage (printed, or a USB key in a safe), check the copy, then "
    "delete it here": "bewahren Sie eine Kopie offline auf (ausgedruckt oder auf einem "
                      "USB-Stick im Tresor), prüfen Sie die Kopie und löschen Sie die Datei "
                      "hier",
    "not found beside the key file": "nicht neben der Schlüsseldatei gefunden",
    # unsubscribe mailbox
    "mail_unsubscribe_mailto is {address}, but no reader is configured for that mailbox, "
    "so mails carry no mailto: unsubscribe":
        "mail_unsubscribe_mailto ist {address}, aber für dieses Postfach ist kein Leser "
        "eingerichtet; E-Mails tragen daher keine mailto:-Abmeldung",
    "set EHRLICH_UNSUBSCRIBE_IMAP_HOST, _USERNAME and _PASSWORD to that mailbox's login, "
    "or unset EHRLICH_MAIL_UNSUBSCRIBE_MAILTO":
        "setzen Sie EHRLICH_UNSUBSCRIBE_IMAP_HOST, _USERNAME und _PASSWORD auf die Zugangsdaten "
        "dieses Postfachs oder entfernen Sie EHRLICH_MAIL_UNSUBSCRIBE_MAILTO",
    "no mailto: is advertised; people unsubscribe by link":
        "keine mailto:-Adresse angegeben; Abmeldung erfolgt per Link",
    "the unsubscribe mailbox at {host} is read over plain IMAP: its password travels "
    "readable": "das Abmelde-Postfach auf {host} wird über unverschlüsseltes IMAP gelesen: "
                "sein Passwort wird lesbar übertragen",
    "set EHRLICH_UNSUBSCRIBE_IMAP_TLS=ssl (or starttls)":
        "setzen Sie EHRLICH_UNSUBSCRIBE_IMAP_TLS=ssl (oder starttls)",
    "{username} at {host}:{port}, folder {folder} is read, though no mailto: is advertised "
    "(EHRLICH_MAIL_UNSUBSCRIBE_MAILTO is unset)":
        "{username} auf {host}:{port}, Ordner {folder} wird gelesen, obwohl keine "
        "mailto:-Adresse angegeben ist (EHRLICH_MAIL_UNSUBSCRIBE_MAILTO ist nicht gesetzt)",
    "mailto:{address} is advertised; {username} at {host}:{port}, folder {folder} is read "
    "every five minutes by the worker or `ehrlich mail read-unsubscribes`":
        "mailto:{address} ist angegeben; {username} auf {host}:{port}, Ordner {folder} wird "
        "alle fünf Minuten vom Worker oder von `ehrlich mail read-unsubscribes` gelesen",
    # notice
    "no notice is published: people would be asked for data without being told what is "
    "kept, why and who else gets it":
        "keine Datenschutzerklärung veröffentlicht: Menschen würden nach Daten gefragt, ohne "
        "zu erfahren, was gespeichert wird, wozu und wer es sonst erhält",
    "edit {example} and run `ehrlich notice publish {example}`":
        "bearbeiten Sie {example} und führen Sie `ehrlich notice publish {example}` aus",
    "version {number} has {count} lint error(s) under the current rules":
        "Version {number} hat nach den aktuellen Regeln {count} Fehler",
    "run `ehrlich notice lint` on your notice file, fix it and publish again":
        "führen Sie `ehrlich notice lint` für Ihre Datei aus, korrigieren Sie sie und "
        "veröffentlichen Sie erneut",
    "version {number} is published; {count} wording warning(s)":
        "Version {number} ist veröffentlicht; {count} Hinweis(e) zur Formulierung",
    "run `ehrlich notice lint` and consider the suggested rewrites":
        "führen Sie `ehrlich notice lint` aus und prüfen Sie die vorgeschlagenen Umformulierungen",
    "version {number} is published and lints clean":
        "Version {number} ist veröffentlicht und ohne Beanstandung",
}
CATALOGUES: dict[str, dict[str, str]] = {"de": GERMAN}


def translate(text: str, params: Mapping[str, object] | None = None, *,
              language: str = "en") -> str:
    """`text` in `language` (English when there is no translation), fields filled in."""
    chosen = CATALOGUES.get(language, {}).get(text, text)
    return chosen.format_map(dict(params)) if params else chosen
