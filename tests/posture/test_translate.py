"""The protection report's texts in the reader's language."""

from __future__ import annotations

import pytest

from ehrlich.i18n import NP_
from ehrlich.posture.i18n import translate
from ehrlich.posture.schemas import Finding, Status


@pytest.mark.parametrize("language", ["en", "de"])
def test_an_empty_text_stays_empty(language: str) -> None:
    """A passing check has no fix; gettext("") would give the catalogue's header."""
    assert translate("", language=language) == ""


def test_a_text_is_translated() -> None:
    assert translate("pass", language="de") == "in Ordnung"


BACKUPS = NP_("backup {backup_id} verified; {count} backup at {where}",
              "backup {backup_id} verified; {count} backups at {where}")


@pytest.mark.parametrize(("language", "count", "text"), [
    ("en", 1, "backup b1 verified; 1 backup at file:///b"),
    ("en", 6, "backup b1 verified; 6 backups at file:///b"),
    ("de", 1, "Sicherung b1 geprüft; 1 Sicherung unter file:///b"),
    ("de", 6, "Sicherung b1 geprüft; 6 Sicherungen unter file:///b"),
])
def test_a_text_with_a_count_takes_the_form_its_count_needs(
        language: str, count: int, text: str) -> None:
    params = {"backup_id": "b1", "count": count, "where": "file:///b"}
    assert translate(BACKUPS, params, language=language) == text


def test_a_finding_reads_in_english_in_the_form_its_count_needs() -> None:
    one = Finding(Status.PASS, BACKUPS, params={"backup_id": "b1", "count": 1, "where": "x"})
    assert one.detail == "backup b1 verified; 1 backup at x"
    assert one.detail_template == BACKUPS
    assert one.fix == ""
