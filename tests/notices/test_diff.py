"""Which purposes widen between two notices, and which do not."""

from __future__ import annotations

import pytest

from ehrlich.notices.diff import human_diff, widened_purposes
from ehrlich.notices.loader import load_notice
from ehrlich.notices.schemas import Notice
from tests.notices.conftest import variant

NEWSLETTER_EN = ("en: Yes, send me the Lindenhof newsletter by email, about once a month. "
                 "I can unsubscribe at any time with the link in each email.")


def _notice(text: str) -> Notice:
    return load_notice(text).notice


def _widened(old: str, new: str) -> dict[str, tuple[str, ...]]:
    return {w.purpose_id: w.reasons for w in widened_purposes(_notice(old), _notice(new))}


def test_identical_notices_widen_nothing(example: str) -> None:
    assert _widened(example, example) == {}
    assert human_diff(_notice(example), _notice(example), old_label="a", new_label="b") == []


@pytest.mark.parametrize(("change", "purpose", "reason"), [
    (("recipients: [mailer]", "recipients: [mailer, carrier]"), "newsletter",
     "new recipient 'carrier'"),
    (("data_categories: [email, name]", "data_categories: [email, name, phone]"), "newsletter",
     "new data category 'phone'"),
    (("duration: 90 days", "duration: 4 months"), "repair_sms",
     "longer retention: 90 days → 4 months"),
    (("duration: 2 years", "duration: P3Y"), "newsletter", "longer retention: 2 years → P3Y"),
    (("duration: 2 years", "duration: 25 months"), "newsletter",
     "longer retention: 2 years → 25 months"),
    (("duration: 90 days", "duration: 13 weeks"), "repair_sms",
     "longer retention: 90 days → 13 weeks"),
    (("channel: sms", "channel: phone"), "repair_sms", "channel changed: sms → phone"),
    ((NEWSLETTER_EN, NEWSLETTER_EN.replace("once a month", "once a week")), "newsletter",
     "consent text changed (en)"),
    (("de: Ja, schicken Sie mir eine SMS", "de: Ja, senden Sie mir eine SMS"), "repair_sms",
     "consent text changed (de)"),
    (("    role: processor\n    country: DE", "    role: controller\n    country: DE"),
     "newsletter", "recipient 'mailer' is now a controller (was a processor)"),
    (("    role: processor\n    country: DE",
      "    role: processor\n    country: US\n    safeguards: {en: SCC, de: SCC}"),
     "newsletter", "recipient 'mailer' is now in US (was DE), outside the EU/EEA"),
])
def test_each_kind_of_widening(example: str, change: tuple[str, str], purpose: str,
                               reason: str) -> None:
    assert _widened(example, variant(example, change)) == {purpose: (reason,)}


@pytest.mark.parametrize("change", [
    ("recipients: [mailer]", "recipients: []"),                      # fewer recipients
    ("data_categories: [email, name]", "data_categories: [email]"),  # fewer data
    ("duration: 2 years", "duration: 1 year"),                       # shorter retention
    ("duration: 2 years", "duration: 24 months"),                    # the same period
    ("en: About once a month we write", "en: Once a month we write"),  # description only
    ("  name: Lindenhof Fahrradmanufaktur GmbH", "  name: Lindenhof Rad GmbH"),
    ("    name: Postwerk Mailing GmbH", "    name: Postwerk Mail GmbH"),   # recipient renamed
    ("    country: DE\n  - id: carrier", "    country: AT\n  - id: carrier"),  # moved within EEA
    ("    role: controller\n    country: DE\n  - id: sms_gateway",
     "    role: processor\n    country: DE\n  - id: sms_gateway"),    # controller -> processor
    (NEWSLETTER_EN, NEWSLETTER_EN.replace(" I can", "\n          I can")),  # re-wrapped only
])
def test_narrowing_and_cosmetic_changes_widen_nothing(example: str,
                                                      change: tuple[str, str]) -> None:
    assert _widened(example, variant(example, change)) == {}


def test_several_purposes_and_reasons_at_once(example: str) -> None:
    new = variant(example,
                  ("recipients: [mailer]", "recipients: [mailer, carrier]"),
                  ("duration: 2 years", "duration: 3 years"),
                  ("duration: 10 years", "duration: 11 years"))
    assert _widened(example, new) == {
        "newsletter": ("new recipient 'carrier'", "longer retention: 2 years → 3 years"),
        "bookkeeping": ("longer retention: 10 years → 11 years",),
    }


def test_new_and_removed_purposes_are_not_widenings(example: str) -> None:
    new = variant(example, ("  - id: repair_sms", "  - id: repair_texts"))
    assert _widened(example, new) == {}


def test_human_diff_shows_the_change(example: str) -> None:
    new = variant(example, ("duration: 2 years", "duration: 3 years"))
    diff = human_diff(_notice(example), _notice(new), old_label="version 1",
                      new_label="version 2")
    assert diff[:2] == ["--- version 1", "+++ version 2"]
    assert "-    duration: 2 years" in diff
    assert "+    duration: 3 years" in diff
    assert sum(line.startswith(("-", "+")) for line in diff[2:]) == 2
