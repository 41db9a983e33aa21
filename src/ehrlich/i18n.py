"""The one way ehrlich speaks English and German: gettext catalogues, negotiated per request.

Texts are written in English in the code and templates (`gettext("…")`,
`{{ _("…") }}`); `locale/<lang>/LC_MESSAGES/ehrlich.po` holds the translations
(`make i18n-update` after changing a text, see docs/translations.md). The
compiled `.mo` files are built at install (`make i18n-compile`); where one is
missing or older than its `.po` (a source checkout, a fresh edit) the `.po` is
compiled in memory instead, so a checkout always speaks its current catalogue.

The language of a request is, in order: an explicit `?lang=`, the language
cookie a visitor set with the switch, then the browser's Accept-Language
(RFC 9110 §12.5.4). Templates are rendered in one Jinja2 environment per
language, so concurrent requests in different languages never share a
translation.
"""

from __future__ import annotations

import gettext as _gettext
from functools import cache, partial
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module; it needs neither the web nor the templates
    from jinja2 import Environment
    from starlette.requests import Request

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
LANG_COOKIE = "ehrlich-lang"
DOMAIN = "ehrlich"
LOCALE_DIR = Path(__file__).parent / "locale"

Translations = _gettext.NullTranslations


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a text for the catalogue where it is defined; translate it where it is shown."""
    return message


Plural = tuple[str, str]
"""A text that depends on a number: its singular and plural English forms."""


def NP_(singular: str, plural: str) -> Plural:  # noqa: N802 - extracted like N_ (-k NP_:1,2)
    """`N_` for a text with a number: translated where it is shown, with `ngettext`,
    so that each language picks its own form (German and English: 1 and many)."""
    return singular, plural


def pick_language(accept_language: str | None, offered: tuple[str, ...] = LANGUAGES) -> str:
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


def negotiate(request: Request, offered: tuple[str, ...] = LANGUAGES) -> str:
    """The language to answer `request` in: `?lang=`, the language cookie, Accept-Language."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen in offered:
            return chosen
    return pick_language(request.headers.get("accept-language"), offered)


def catalogue_path(lang: str, suffix: str = ".po", locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def compiled(lang: str, locale_dir: Path = LOCALE_DIR) -> bytes:
    """The `.mo` for `lang`: the installed one if current, else compiled from the `.po`."""
    po, mo = catalogue_path(lang, locale_dir=locale_dir), catalogue_path(lang, ".mo", locale_dir)
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return mo.read_bytes()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalogue = read_po(source, locale=lang, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    return buffer.getvalue()


@cache
def translations(lang: str) -> Translations:
    """The translations for `lang`, loaded once per process (English for unknown ones)."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    return _gettext.GNUTranslations(BytesIO(compiled(lang)))


def install(environment: Environment, lang: str) -> Environment:
    """Give `environment` (built with `jinja2.ext.i18n`) the texts of `lang`, for good.

    Each language has its own environment: installing into a shared one per
    request would let one request's language leak into another's page.
    """
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations(lang), newstyle=True)
    environment.filters["number"] = partial(format_number, lang=lang)
    return environment


def format_number(value: float, *, lang: str) -> str:
    """`value` as a reader of `lang` writes it: 12,345 in English, 12.345 in German (the
    templates' `number` filter)."""
    from babel.numbers import format_decimal  # loaded on the first page that counts

    return str(format_decimal(value, locale=lang))


@cache
def language_name(tag: str, ui: str) -> str:
    """`tag` as a reader of `ui` names it, with the tag: "Deutsch (de)", "German (de)";
    the tag alone where Babel does not know it."""
    from babel import Locale, UnknownLocaleError  # only pages that offer languages need it

    try:
        name = Locale.parse(tag, sep="-").get_display_name(ui)
    except (ValueError, UnknownLocaleError):
        name = None
    return f"{name} ({tag})" if name else tag
