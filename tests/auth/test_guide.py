"""The staff guide's built-in rules and notice paragraphs, in English and German from the
catalogue; its hash names the text staff acknowledged."""

from __future__ import annotations

from pathlib import Path

from ehrlich.auth.guide import current_guide
from ehrlich.notices.example import example_notice_text
from ehrlich.notices.loader import load_notice
from tests.consent.conftest import notice_text

# The hash of the built-in rules as they read since the guide was introduced. Changing a
# rule's text (in either language) changes it and asks every staff member to read the
# guide again: that must be a decision, not a side effect of editing the catalogue.
# Changed when the German rule on breaches named the owner role as the console does
# ("dem Inhaber", was "dem Owner"): staff read the corrected rule once more.
BUILT_IN_HASH = "0c616d2102a50ed5bd9dbc167af9f2e950c441bba26561791adfa4402cf8a547"


def test_the_built_in_rules_read_as_acknowledged(tmp_path: Path) -> None:
    guide = current_guide(tmp_path)
    assert guide.hash == BUILT_IN_HASH
    assert guide.for_language("de")[0].startswith("Sehen Sie Daten einer Person nur an")
    assert guide.for_language("en")[0].startswith("Look at a person's data only")
    assert guide.for_language("fr") == guide.for_language("en")


def test_notice_paragraphs_speak_each_language(tmp_path: Path) -> None:
    notice = load_notice(notice_text()).notice
    guide = current_guide(tmp_path, notice)
    english, german = guide.paragraphs["en"][5:], guide.paragraphs["de"][5:]
    assert len(english) == len(german) == len(notice.purposes)
    assert english[0].startswith("We collect ")
    assert german[0].startswith("Wir erheben ")
    assert "Rechtsgrundlage: " in german[0]
    assert any(" Weitergabe an: " in line for line in german)
    assert guide.hash != BUILT_IN_HASH


def test_a_recipient_name_ending_in_a_full_stop_ends_the_sentence_once(
        tmp_path: Path) -> None:
    guide = current_guide(tmp_path, load_notice(example_notice_text()).notice)
    english, german = guide.paragraphs["en"][5:], guide.paragraphs["de"][5:]
    assert any(line.endswith("Shared with: Textline Inc.") for line in english)
    assert any(line.endswith("Weitergabe an: Textline Inc.") for line in german)
    assert not any(".." in line for line in english + german)


def test_legal_basis_and_retention_read_in_the_guide_s_language(tmp_path: Path) -> None:
    """Worded as the public notice words them: a German guide with "contract" or
    "3 years" in it left staff half the rule in English."""
    guide = current_guide(tmp_path, load_notice(example_notice_text()).notice)
    english, german = guide.paragraphs["en"][5:], guide.paragraphs["de"][5:]
    assert "Legal basis: our contract with you (Art. 6(1)(b) GDPR)." in english[0]
    assert "Kept for 3 years after your last order." in english[0]
    assert "Rechtsgrundlage: unser Vertrag mit Ihnen (Art. 6 Abs. 1 lit. b DSGVO)." in german[0]
    for word in ("contract", "consent", "legal obligation", "year", "days"):
        assert not any(word in line for line in german), word
    assert "Jahre" in german[0]
