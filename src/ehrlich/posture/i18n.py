"""The posture report in the reader's language.

Checks write their texts in English, as templates with named fields (`{count}`),
marked with `N_` so that `make i18n-update` puts them in the catalogue
(`ehrlich.i18n`); this translates a template and then fills the fields in. A text
with a number in it is marked `NP_("{count} backup", "{count} backups")` and its form
is chosen by the `count` field, per language (`ngettext`). A text without a
translation is shown in English.
"""

from __future__ import annotations

from collections.abc import Mapping

from ehrlich.i18n import N_, Plural, translations

STATUS_LABELS = {"pass": N_("pass"), "warn": N_("warn"), "fail": N_("fail")}
"""How a check's status reads in the report (translated where it is shown)."""


COUNT = "count"
"""The field whose number picks the form of a `Plural` text."""


def translate(text: str | Plural, params: Mapping[str, object] | None = None, *,
              language: str = "en") -> str:
    """`text` in `language` (English when there is no translation), fields filled in;
    a `Plural` in the form its `count` field asks for."""
    if isinstance(text, tuple):
        number = (params or {}).get(COUNT, 0)
        chosen = translations(language).ngettext(
            *text, number if isinstance(number, int) else 0)
    elif not text:  # gettext("") is the catalogue's header, not a translation
        return text
    else:
        chosen = translations(language).gettext(text)
    return chosen.format_map(dict(params)) if params else chosen
