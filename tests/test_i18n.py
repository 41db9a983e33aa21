"""The gettext catalogues: complete in German, current with the sources, loaded from the `.po`
when no current `.mo` is installed, and the one language negotiation on real pages."""

from __future__ import annotations

import gettext
import os
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from ehrlich.i18n import (
    DOMAIN,
    LANG_COOKIE,
    LANGUAGES,
    LOCALE_DIR,
    catalogue_path,
    compiled,
    format_number,
)
from ehrlich.web.templating import environment

ROOT = Path(__file__).resolve().parent.parent
# The same command as `make i18n-extract`.
EXTRACT = ["pybabel", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "NP_:1,2",
           "--no-location", "--sort-output", "--project", "ehrlich"]

Key = tuple[str | None, str]


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale, domain=DOMAIN)


def _keys(catalogue: Catalog) -> set[Key]:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0])
            for m in catalogue if m.id}


def _untranslated(catalogue: Catalog) -> list[Key]:
    """Messages with an empty (or, for plurals, partly empty) or fuzzy translation."""
    missing = []
    for m in catalogue:
        if not m.id:
            continue
        forms = [m.string] if isinstance(m.string, str) else list(m.string)
        if m.fuzzy or not all(forms):
            missing.append((m.context, m.id if isinstance(m.id, str) else m.id[0]))
    return missing


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The texts the sources use now, extracted into a fresh template."""
    out = tmp_path_factory.mktemp("i18n") / "ehrlich.pot"
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run([*EXTRACT, "-o", str(out), "."])
    finally:
        os.chdir(cwd)
    return _read(out)


def test_every_text_has_a_german_translation() -> None:
    german = _read(catalogue_path("de"), "de")
    template = _read(LOCALE_DIR / f"{DOMAIN}.pot")
    assert _keys(german) == _keys(template)
    assert _untranslated(german) == []


def test_catalogues_hold_exactly_the_texts_the_sources_use(extracted: Catalog) -> None:
    assert len(_keys(extracted)) > 150
    committed = _read(LOCALE_DIR / f"{DOMAIN}.pot")
    assert _keys(extracted) - _keys(committed) == set(), "run make i18n-update"
    assert _keys(committed) - _keys(extracted) == set(), "run make i18n-update"
    for lang in LANGUAGES:
        assert _keys(_read(catalogue_path(lang), lang)) == _keys(extracted), lang


def test_a_missing_german_text_is_reported(tmp_path: Path) -> None:
    german = _read(catalogue_path("de"), "de")
    message = german["Withdraw everything"]
    assert message is not None
    message.string = ""
    german["Saved."].flags.add("fuzzy")
    assert sorted(_untranslated(german)) == [(None, "Saved."), (None, "Withdraw everything")]


def _locale_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    return copy


def _mo_saying(text: str) -> bytes:
    catalogue = Catalog(locale="de", domain=DOMAIN)
    catalogue.add("Saved.", text)
    buffer = BytesIO()
    write_mo(buffer, catalogue)
    return buffer.getvalue()


def _saved(mo: bytes) -> str:
    return gettext.GNUTranslations(BytesIO(mo)).gettext("Saved.")


def test_without_a_compiled_catalogue_the_po_is_compiled_in_memory(tmp_path: Path) -> None:
    locale = _locale_copy(tmp_path)
    assert _saved(compiled("de", locale)) == "Gespeichert."
    assert not catalogue_path("de", ".mo", locale).exists()


def test_a_current_compiled_catalogue_is_used_and_a_stale_one_is_not(tmp_path: Path) -> None:
    locale = _locale_copy(tmp_path)
    po, mo = catalogue_path("de", locale_dir=locale), catalogue_path("de", ".mo", locale)
    mo.write_bytes(_mo_saying("from the installed catalogue"))
    os.utime(po, (1_700_000_000, 1_700_000_000))
    os.utime(mo, (1_700_000_100, 1_700_000_100))
    assert _saved(compiled("de", locale)) == "from the installed catalogue"
    os.utime(po, (1_700_000_200, 1_700_000_200))  # the .po was edited after compiling
    assert _saved(compiled("de", locale)) == "Gespeichert."


def test_unsubscribe_page_follows_the_preferred_language(client: TestClient) -> None:
    """Accept-Language is weighed (RFC 9110 §12.5.4), not read by its first letters."""
    r = client.get("/unsubscribe/some-token", headers={"Accept-Language": "en;q=0.5, de"})
    assert '<html lang="de">' in r.text
    assert "Dieser Link ist unvollständig" in r.text
    r = client.get("/unsubscribe/some-token", headers={"Accept-Language": "de;q=0.1, en"})
    assert "This link is incomplete" in r.text


def test_console_sign_in_in_german_and_the_choice_carries_to_public_pages(
        client: TestClient) -> None:
    r = client.get("/admin/login?lang=de")
    assert r.status_code == 200
    assert '<html lang="de">' in r.text
    for text in ("Konsole", "Passwort", "Anmelden"):
        assert text in r.text
    assert r.cookies.get(LANG_COOKIE) == "de"
    r = client.get("/unsubscribe/some-token", headers={"Accept-Language": "en"})
    assert "Dieser Link ist unvollständig" in r.text
    r = client.get("/admin/login?lang=en")
    assert "Password" in r.text
    assert "Passwort" not in r.text


def test_german_and_english_pages_in_turn_keep_their_own_language(client: TestClient) -> None:
    """Each language renders in its own environment: no page takes another's texts."""
    for _ in range(3):
        german = client.get("/unsubscribe/t", headers={"Accept-Language": "de"}).text
        english = client.get("/unsubscribe/t", headers={"Accept-Language": "en"}).text
        assert "Es wurde nichts geändert." in german
        assert "Nothing was changed." in english
        assert "Es wurde nichts geändert." not in english


def test_security_page_in_german(client: TestClient) -> None:
    r = client.get("/security?lang=de", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in r.text
    assert "<h1>Wie Ihre Daten geschützt sind</h1>" in r.text
    assert "<h2>Verschlüsselt, Feld für Feld</h2>" in r.text
    r = client.get("/security", headers={"Accept-Language": "fr, de;q=0.8, en;q=0.5"})
    assert "<h2>Keine Dritten auf unseren Seiten</h2>" in r.text


def test_numbers_are_written_as_the_reader_writes_them() -> None:
    assert format_number(1234567, lang="en") == "1,234,567"
    assert format_number(1234567, lang="de") == "1.234.567"
    page = environment("de").from_string("{{ 42624 | number }} B").render()
    assert page == "42.624 B"
