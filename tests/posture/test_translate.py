"""The protection report's texts in the reader's language."""

from __future__ import annotations

import pytest

from ehrlich.posture.i18n import translate


@pytest.mark.parametrize("language", ["en", "de"])
def test_an_empty_text_stays_empty(language: str) -> None:
    """A passing check has no fix; gettext("") would give the catalogue's header."""
    assert translate("", language=language) == ""


def test_a_text_is_translated() -> None:
    assert translate("pass", language="de") == "in Ordnung"
