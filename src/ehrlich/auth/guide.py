"""The data-handling guide staff acknowledge at first sign-in and after every change.

It is the built-in rules, one paragraph per purpose of the published notice
(what is collected, why, on which legal basis, for how long, shared with whom),
and the organisation's own text (`staff-guide.txt` in the data directory, one
paragraph per blank-line block). Its SHA-256 identifies the version
acknowledged, so publishing a new notice asks everyone to read it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ehrlich.crypto.digests import sha256
from ehrlich.i18n import LANGUAGES, N_, translations
from ehrlich.notices.schemas import Notice
from ehrlich.notices.views import localise

BUILT_IN = (  # English, marked for the catalogue; each language's version is hashed
    N_("Look at a person's data only when a task needs it, and state the reason when the "
       "console asks: every view is recorded."),
    N_("Never copy contact data out of ehrlich by hand (screenshots, spreadsheets, "
       "private mail). Use exports, which name the recipient and expire."),
    N_("Requests from people about their data (access, correction, erasure, objection) "
       "go into ehrlich the same day; the law gives one month."),
    N_("If data may have reached the wrong people, tell the owner at once: a breach must "
       "be reported to the authority within 72 hours."),
    N_("Your password and codes are yours alone. ehrlich never asks for them by mail."),
)
ORGANISATION_FILE = "staff-guide.txt"
_NOTICE_LINE = N_("We collect %(categories)s for “%(title)s”: %(description)s Legal basis: "
                  "%(basis)s. Kept for %(retention)s.%(recipients)s")
_SHARED = N_(" Shared with: %(names)s.")


def _shared(sentence: str) -> str:
    """One full stop, also after a name that ends in one ("Textline Inc.")."""
    return sentence[:-1] if sentence.endswith("..") else sentence


def notice_paragraphs(notice: Notice, lang: str) -> list[str]:
    """One paragraph per purpose, from the notice staff must work by, worded as the
    public notice words it in `lang` (legal basis and retention included)."""
    tr = translations(lang)
    lines = []
    for purpose in localise(notice, lang).purposes:
        shared = [r.name for r in purpose.recipients]
        lines.append(tr.gettext(_NOTICE_LINE) % {
            "categories": ", ".join(purpose.data), "title": purpose.title,
            "description": purpose.description, "basis": purpose.legal_basis,
            "retention": purpose.retention.strip(),
            "recipients": _shared(tr.gettext(_SHARED) % {"names": ", ".join(shared)})
            if shared else ""})
    return lines


@dataclass(frozen=True)
class Guide:
    paragraphs: dict[str, list[str]]
    organisation: list[str]
    hash: str

    def for_language(self, lang: str) -> list[str]:
        return self.paragraphs.get(lang, self.paragraphs["en"]) + self.organisation


def current_guide(data_dir: Path, notice: Notice | None = None) -> Guide:
    path = data_dir / ORGANISATION_FILE
    own = []
    if path.exists():
        own = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    paragraphs = {lang: [translations(lang).gettext(rule) for rule in BUILT_IN]
                  + (notice_paragraphs(notice, lang) if notice else []) for lang in LANGUAGES}
    digest = sha256(json.dumps([paragraphs, own], sort_keys=True).encode()).hex()
    return Guide(paragraphs, own, digest)
