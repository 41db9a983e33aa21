"""Reading notice files: every problem names file, line and what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.notices.durations import parse_duration
from ehrlich.notices.errors import NoticeInvalid
from ehrlich.notices.loader import load_notice
from tests.notices.conftest import line_of, variant


def _errors(text: str) -> list[str]:
    with pytest.raises(NoticeInvalid) as caught:
        load_notice(text, file="n.yaml")
    return [f.as_text() for f in caught.value.findings]


def test_example_notice_loads(example: str) -> None:
    loaded = load_notice(example)
    notice = loaded.notice
    assert notice.languages == ["en", "de"]
    assert [p.id for p in notice.purposes] == ["orders", "bookkeeping", "newsletter",
                                               "repair_sms"]
    assert notice.purpose("newsletter").retention.period.days == 2 * 366  # type: ignore[union-attr]
    pos = loaded.positions.of(("purposes", 2, "consent", "text", "en"))
    assert pos.line == line_of(example, "en: Yes, send me the Lindenhof newsletter")


def test_malformed_yaml_names_the_line() -> None:
    [error] = _errors("format: 1\ncontroller: [name\npurposes: []\n")
    assert error.startswith("n.yaml:3:")
    assert "malformed YAML" in error


def test_tab_indentation_is_malformed() -> None:
    [error] = _errors("format: 1\ncontroller:\n\tname: x\n")
    assert error.startswith("n.yaml:3:")


def test_empty_file() -> None:
    assert _errors("") == ["n.yaml:1:1: error [schema] the file is empty"]


def test_unknown_key_names_its_line(example: str) -> None:
    text = variant(example, ("  address: Lindenstraße", "  adress: Lindenstraße"))
    errors = _errors(text)
    line = line_of(text, "adress:")
    assert f"n.yaml:{line}:3: error [schema] controller.adress: unknown key" in errors[-1]
    assert any("missing required key 'address'" in e for e in errors)


def test_missing_language_names_the_mapping(example: str) -> None:
    text = variant(example, ("      de: Newsletter per E-Mail\n", ""))
    [error] = _errors(text)
    assert error.startswith(f"n.yaml:{line_of(text, 'en: Newsletter by email') - 1}:")
    assert "purposes.2.title: missing language 'de'" in error


def test_forever_is_not_a_duration(example: str) -> None:
    text = variant(example, ("duration: 3 years", "duration: forever"))
    [error] = _errors(text)
    assert error.startswith(f"n.yaml:{line_of(text, 'duration: forever')}:")
    assert "'forever' is not a concrete duration" in error


def test_wrong_legal_basis_lists_the_choices(example: str) -> None:
    text = variant(example, ("legal_basis: contract", "legal_basis: because"))
    [error] = _errors(text)
    assert error.startswith(f"n.yaml:{line_of(text, 'legal_basis: because')}:")
    assert "'consent', 'contract', 'legitimate_interest' or 'legal_obligation'" in error


def test_duplicate_key_is_refused(example: str) -> None:
    text = variant(example, ("  name: Lindenhof Fahrradmanufaktur GmbH\n",
                             "  name: Lindenhof Fahrradmanufaktur GmbH\n  name: Other GmbH\n"))
    [error] = _errors(text)
    assert error.startswith(f"n.yaml:{line_of(text, 'name: Other GmbH')}:3:")
    assert "appears twice" in error


def test_references_must_exist(example: str) -> None:
    text = variant(example, ("recipients: [carrier]", "recipients: [carrier, ad_network]"),
                   ("data_categories: [phone]", "data_categories: [phone, location]"))
    errors = _errors(text)
    assert any("unknown recipient 'ad_network'" in e for e in errors)
    assert any("unknown data category 'location'" in e and
               e.startswith(f"n.yaml:{line_of(text, '[phone, location]')}:") for e in errors)


def test_transfer_outside_eea_needs_safeguards(example: str) -> None:
    text = variant(example, ("    country: DE\n  - id: carrier",
                             "    country: IN\n  - id: carrier"))
    [error] = _errors(text)
    assert "IN is outside the EU/EEA: add `safeguards`" in error


def test_consent_text_on_contract_purpose_is_refused(example: str) -> None:
    consent = "    consent:\n      text: {en: a, de: b}\n"
    line = "    recipients: [carrier]\n"
    text = variant(example, (line, line + consent))
    [error] = _errors(text)
    assert "consent text on a purpose whose legal basis is contract" in error


def test_legitimate_interest_must_be_named(example: str) -> None:
    text = variant(example, ("legal_basis: contract", "legal_basis: legitimate_interest"))
    [error] = _errors(text)
    assert "name the legitimate interest" in error


def test_yaml_booleans_are_not_strings(example: str) -> None:
    text = variant(example, ("default: unticked", "default: no"))
    [error] = _errors(text)
    assert "purposes.2.consent.default" in error


@pytest.mark.parametrize(("text", "days"), [
    ("2 years", 732), ("18 months", 558), ("6 weeks", 42), ("90 days", 90), ("P2Y", 732),
    ("1 year", 366), ("3 Jahre", 1098), ("P10D", 10)])
def test_durations(text: str, days: int) -> None:
    assert parse_duration(text).days == days


@pytest.mark.parametrize("text", ["forever", "as long as necessary", "0 days", "two years",
                                  "5 fortnights", "", "P", "-1 year"])
def test_vague_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(("longer", "shorter", "expected"), [
    ("2 years", "24 months", False), ("25 months", "2 years", True), ("1 year", "365 days", True),
    ("365 days", "1 year", False), ("3 months", "13 weeks", True), ("92 days", "13 weeks", True)])
def test_longer_than(longer: str, shorter: str, expected: bool) -> None:
    assert parse_duration(longer).longer_than(parse_duration(shorter)) is expected


@given(st.integers(1, 9998), st.sampled_from(["day", "week", "month", "year"]))
def test_duration_order_follows_amount(amount: int, unit: str) -> None:
    shorter, longer = parse_duration(f"{amount} {unit}s"), parse_duration(f"{amount + 1} {unit}s")
    assert shorter.days < longer.days
    assert longer.longer_than(shorter)
    assert not shorter.longer_than(longer)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_loads_or_fails_cleanly(text: str) -> None:
    findings = []
    try:
        load_notice(text)
    except NoticeInvalid as exc:
        findings = exc.findings
    assert all(f.line >= 1 and f.column >= 1 for f in findings)
