"""Each linter rule on a notice file, with line and column, and the example staying clean."""

from __future__ import annotations

import string
from importlib.resources import files

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.notices.example import example_notice_text
from ehrlich.notices.lint import check_text, has_errors, lint_notice
from ehrlich.notices.loader import load_notice
from ehrlich.notices.readability import readability, syllables
from ehrlich.notices.rules import (
    RuleSet,
    default_rules,
    extract_rule_texts,
    parse_rules,
    rules_in,
)
from ehrlich.notices.schemas import Finding
from tests.notices.conftest import line_of, own_business, variant

NEWSLETTER_EN = ("en: Yes, send me the Lindenhof newsletter by email, about once a month. "
                 "I can unsubscribe at any time with the link in each email.")
NEWSLETTER_DE = ("de: Ja, schicken Sie mir den Lindenhof-Newsletter per E-Mail, etwa einmal im "
                 "Monat. Ich kann mich jederzeit über den Link in jeder E-Mail abmelden.")
SMS_EN = "en: Yes, send me a text message when my bike is ready."


@pytest.fixture
def example() -> str:
    """The example as a business publishes it: the wording rules find nothing in it, so
    each test below sees only the finding it provokes."""
    return own_business(example_notice_text())


def _lint(text: str) -> list[Finding]:
    return lint_notice(load_notice(text, file="n.yaml"))


def _rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_example_notice_is_clean(example: str) -> None:
    assert _lint(own_business(example)) == []


def test_the_examples_placeholders_are_warned_about() -> None:
    """Published unchanged, the example names another business and contacts nobody reads."""
    example = example_notice_text()
    findings = _lint(example)
    assert [(f.line, f.rule, f.severity) for f in findings] == [
        (line_of(example, "name: Lindenhof Fahrradmanufaktur"), "example-controller", "warning"),
        (line_of(example, "contact: privacy@"), "unreachable-contact", "warning"),
        (line_of(example, "contact: dpo@"), "unreachable-contact", "warning")]
    assert "privacy@lindenhof-rad.example" in findings[1].message
    assert not has_errors(findings)


@pytest.mark.parametrize(("contact", "reserved"), [
    ("privacy@shop.example", True), ("https://shop.test/privacy", True),
    ("privacy@example.com", True), ("privacy@mail.example.org", True),
    ("privacy@localhost", True), ("privacy@shop.invalid.", True),
    ("privacy@shop.de", False), ("https://example.shop.de/privacy", False),
    ("privacy@examples.com", False), ("https://shop.de/contact?x=example.com", False)])
def test_reserved_contact_domains(example: str, contact: str, reserved: bool) -> None:
    text = own_business(example).replace("privacy@lindenhof-raeder.de", contact, 1)
    rules = [f.rule for f in _lint(text)]
    assert rules == (["unreachable-contact"] if reserved else [])


def test_refusal_phrasing_with_line_and_column(example: str) -> None:
    text = variant(example, (NEWSLETTER_EN,
                             "en: Tick here if you do not want to receive our newsletter."))
    findings = [f for f in _lint(text) if f.rule == "refusal-phrasing"]
    [finding] = findings
    line = line_of(text, "Tick here if you do not want")
    assert (finding.line, finding.severity) == (line, "error")
    assert finding.column == text.splitlines()[line - 1].index("Tick") + 1
    assert "Yes, send me" in finding.suggestion


def test_german_refusal(example: str) -> None:
    text = variant(example, (NEWSLETTER_DE, "de: Ich möchte keine Werbung per E-Mail erhalten."))
    [finding] = [f for f in _lint(text) if f.rule == "refusal-phrasing"]
    line = line_of(text, "Ich möchte keine Werbung")
    assert finding.line == line
    assert finding.column == text.splitlines()[line - 1].index("Ich möchte") + 1


def test_double_negative_in_a_description(example: str) -> None:
    text = variant(example, ("en: About once a month we write",
                             "en: We never write without news. About once a month we write"))
    [finding] = [f for f in _lint(text) if f.rule == "double-negative"]
    assert "never, without" in finding.message
    assert finding.line == line_of(text, "We never write without news")


def test_preselected_default(example: str) -> None:
    text = variant(example, ("default: unticked", "default: ticked"))
    [finding] = _lint(text)
    assert finding.rule == "preselected-default"
    assert finding.line == line_of(text, "default: ticked")


def test_preselected_wording(example: str) -> None:
    text = variant(example, (SMS_EN, "en: This box is already ticked for your convenience."))
    assert "preselected-wording" in _rules(_lint(text))


def test_missing_consent_text_language(example: str) -> None:
    sms_de = "        de: Ja, schicken Sie mir eine SMS, wenn mein Rad fertig ist.\n"
    text = variant(example, (sms_de, ""))
    [finding] = _lint(text)
    assert finding.rule == "consent-text-missing"
    assert "'repair_sms'" in finding.message
    assert "'de'" in finding.message
    assert finding.line == line_of(text, SMS_EN) - 1


def test_consent_purpose_without_any_consent_text(example: str) -> None:
    start = example.index("    consent:\n      text:\n        en: Yes, send me a text")
    end = example.index("security_measures:")
    text = example[:start] + "\n" + example[end:]
    findings = _lint(text)
    assert [f.rule for f in findings] == ["consent-text-missing"] * 2
    assert findings[0].line == line_of(text, "id: repair_sms") + 7  # the legal_basis line


def test_bundling_by_wording(example: str) -> None:
    text = variant(example, (NEWSLETTER_EN, "en: I accept the terms and conditions and want "
                                            "the newsletter."))
    assert "bundling" in _rules(_lint(text))


def test_bundling_by_identical_text(example: str) -> None:
    text = variant(example, (SMS_EN, NEWSLETTER_EN))
    findings = _lint(text)
    [finding] = [f for f in findings if f.rule == "bundled-text"]
    assert "'newsletter'" in finding.message
    assert finding.line == text[:text.rindex(NEWSLETTER_EN)].count("\n") + 1


def test_bundling_by_naming_another_purpose(example: str) -> None:
    text = variant(example, (SMS_EN, "en: Yes, send me texts and the Newsletter by email."))
    [finding] = [f for f in _lint(text) if f.rule == "names-other-purpose"]
    assert "'newsletter'" in finding.message


def test_vague_recipients_error_where_none_named(example: str) -> None:
    text = variant(example, ("en: The law makes us keep invoices.",
                             "en: The law makes us keep invoices for selected partners."),
                   ("    recipients: [tax_advisor]\n", ""))
    [finding] = [f for f in _lint(text) if f.rule == "vague-recipient"]
    assert finding.severity == "error"


def test_vague_recipients_warning_where_named(example: str) -> None:
    text = variant(example, ("de: Das Gesetz verlangt", "de: Ausgewählte Partner und das Gesetz"
                                                       " verlangen"))
    [finding] = [f for f in _lint(text) if f.rule == "vague-recipient"]
    assert finding.severity == "warning"
    assert not has_errors(_lint(text))


def test_vague_retention_wording(example: str) -> None:
    text = variant(example, ("en: after your last order", "en: as long as necessary"))
    [finding] = _lint(text)
    assert finding.rule == "vague-retention"
    assert finding.line == line_of(text, "as long as necessary")


def test_hard_to_read_is_a_warning(example: str) -> None:
    dense = ("de: Die Verarbeitung personenbezogener Informationen erfolgt ausschließlich "
             "zweckgebunden entsprechend datenschutzrechtlicher Vorschriften unter "
             "Berücksichtigung berechtigter Interessen.")
    text = variant(example, ("de: Etwa einmal im Monat schreiben wir über neue Räder und "
                             "Termine in der Werkstatt.", dense))
    [finding] = _lint(text)
    assert (finding.rule, finding.severity) == ("hard-to-read", "warning")
    assert "Amstad" in finding.message


def test_implied_consent() -> None:
    hits = check_text("By continuing to use this site you agree to our newsletter.", "en",
                      "consent")
    assert "implied-consent" in {h.rule for h in hits}
    hits = check_text("Mit der Anmeldung erklären Sie sich einverstanden.", "de", "consent")
    assert "implied-consent" in {h.rule for h in hits}


def test_hedged_wording_is_a_warning() -> None:
    [hit] = check_text("We may send you offers from time to time.", "en", "description")
    assert (hit.rule, hit.severity) == ("hedged-wording", "warning")


def test_rules_are_data() -> None:
    rules = default_rules()
    assert {r.id for r in rules.patterns} >= {"refusal-phrasing", "bundling", "vague-recipient",
                                              "vague-retention", "implied-consent"}
    custom = parse_rules({
        "negation": {"id": "neg", "severity": "error", "applies_to": ["consent"], "min_cues": 3,
                     "message": "{count} {cues}", "suggestion": "", "cues": {"en": ["\\bnot\\b"]},
                     "withdrawal_notes": {}},
        "patterns": [{"id": "no-foo", "severity": "warning", "applies_to": ["consent"],
                      "message": "{match}", "suggestion": "", "en": ["\\bfoo\\b"]}],
        "readability": {"id": "r", "severity": "warning", "applies_to": [], "min_words": 1,
                        "message": "", "suggestion": "", "thresholds": {}},
        "structure": {}})
    assert [h.rule for h in check_text("foo is not not fine", "en", "consent", custom)] == [
        "no-foo"]
    assert [h.rule for h in check_text("not not not", "en", "consent", custom)] == ["neg"]


@pytest.mark.parametrize(("word", "lang", "count"), [
    ("cat", "en", 1), ("table", "en", 2), ("make", "en", 1), ("newsletter", "en", 3),
    ("Datenschutz", "de", 3), ("Einwilligung", "de", 4), ("Räder", "de", 2)])
def test_syllables(word: str, lang: str, count: int) -> None:
    assert syllables(word, lang) == count


def test_readability_orders_plain_above_dense() -> None:
    plain = readability("We send you a text when your bike is ready.", "en")
    dense = readability("Notwithstanding contractual obligations, personalised communication "
                        "constitutes legitimate organisational processing.", "en")
    assert plain.formula == "Flesch"
    assert plain.score > 80
    assert dense.score < 20
    assert readability("Wir schicken eine SMS.", "de").formula == "Amstad"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["en", "de", "fr"]),
       st.sampled_from(["consent", "description", "retention"]))
def test_check_text_spans_stay_inside_the_text(text: str, lang: str, kind: str) -> None:
    for hit in check_text(text, lang, kind):
        assert 0 <= hit.start <= hit.end <= len(text)
        assert hit.severity in ("error", "warning")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["Yes,", "send", "me", "the", "newsletter", "by", "email",
                                 "once", "a", "month", "."]), min_size=1, max_size=30))
def test_sentences_without_negation_cues_are_never_negation_findings(words: list[str]) -> None:
    hits = check_text(" ".join(words), "en", "consent")
    assert not {h.rule for h in hits} & {"refusal-phrasing", "double-negative"}


@pytest.mark.parametrize(("text", "lang", "rule"), [
    ("No thanks, I hate saving money.", "en", "emotional-steering"),
    ("Yes please! / Ask me later", "en", "emotional-steering"),
    ("Don't miss out on our best deals: subscribe now.", "en", "emotional-steering"),
    ("Nein danke, ich zahle gern den vollen Preis.", "de", "emotional-steering"),
    ("Ja / Vielleicht später", "de", "emotional-steering"),
    ("Yes", "en", "bare-toggle"),
    ("On", "en", "bare-toggle"),
    ("Ja!", "de", "bare-toggle"),
    ("Einverstanden", "de", "bare-toggle"),
])
def test_steering_and_bare_toggles(text: str, lang: str, rule: str) -> None:
    assert rule in {h.rule for h in check_text(text, lang, "consent")}


@pytest.mark.parametrize(("text", "lang"), [
    ("Yes, send me the newsletter by email.", "en"),
    ("Ja, schicken Sie mir den Newsletter per E-Mail.", "de"),
    ("Yes, call me later about my appointment.", "en"),
])
def test_plain_yes_is_neither_steering_nor_bare(text: str, lang: str) -> None:
    assert not {h.rule for h in check_text(text, lang, "consent")} & {
        "emotional-steering", "bare-toggle"}


def test_bare_toggle_in_a_notice(example: str) -> None:
    text = variant(example, (SMS_EN, "en: 'On'"))
    [finding] = _lint(text)
    assert finding.rule == "bare-toggle"
    assert finding.line == line_of(text, "en: 'On'")


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _texts(rules: RuleSet) -> list[str]:
    return [*(t for rule in (rules.negation, *rules.patterns, rules.readability)
              for t in (rule.message, rule.suggestion)),
            *(entry[key] for entry in rules.structure.values()
              for key in ("message", "suggestion"))]


def test_every_rule_text_has_a_german_translation_with_the_same_fields() -> None:
    english, german = _texts(default_rules()), _texts(rules_in("de"))
    assert len(english) == len(german) > 30
    for source, translated in zip(english, german, strict=True):
        assert translated != source, f"no German for {source!r}"
        assert _fields(translated) == _fields(source), source
    assert _texts(rules_in("en")) == english
    assert _texts(rules_in("fr")) == english  # an unknown language reads English


def test_the_rule_texts_are_what_pybabel_extracts() -> None:
    """The extraction method names every message and suggestion, nothing else."""
    rules_file = files("ehrlich.notices") / "lint_rules.yaml"
    with rules_file.open("rb") as handle:
        extracted = [text for _, _, text, _ in extract_rule_texts(handle, {}, [], {})]
    assert sorted(set(extracted)) == sorted({t for t in _texts(default_rules()) if t})
