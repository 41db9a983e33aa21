"""The posture report in the reader's language.

Checks write their texts in English, as templates with named fields (`{count}`),
marked with `N_` so that `make i18n-update` puts them in the catalogue
(`ehrlich.i18n`); this translates a template and then fills the fields in. A text
without a translation is shown in English.
"""

from __future__ import annotations

from collections.abc import Mapping

from ehrlich.i18n import N_, translations

STATUS_LABELS = {"pass": N_("pass"), "warn": N_("warn"), "fail": N_("fail")}
"""How a check's status reads in the report (translated where it is shown)."""


def translate(text: str, params: Mapping[str, object] | None = None, *,
              language: str = "en") -> str:
    """`text` in `language` (English when there is no translation), fields filled in."""
    if not text:  # gettext("") is the catalogue's header, not a translation
        return text
    chosen = translations(language).gettext(text)
    return chosen.format_map(dict(params)) if params else chosen
