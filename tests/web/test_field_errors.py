"""Refused input on the public forms: known reasons translated, unknown ones as written,
unknown fields never shown by their internal name."""

from __future__ import annotations

import pytest

from ehrlich.i18n import N_
from ehrlich.web.field_errors import field_errors, reason_text

FIELDS = {"email": ("email", N_("Email address")),
          "consents": ("purpose", N_("What you want to receive"))}


def test_known_reasons_are_translated_with_their_numbers() -> None:
    assert reason_text("String should have at most 320 characters", "de") == (
        "Bitte geben Sie höchstens 320 Zeichen ein.")
    assert reason_text("Value error, must not contain control characters (line breaks, "
                       "tabs, NUL, escape or bidirectional overrides)", "de").startswith(
        "Bitte entfernen Sie Zeilenumbrüche")
    assert reason_text("is not a valid email address (An email address must have an "
                       "@-sign.)", "de").startswith("Das ist keine gültige E-Mail-Adresse.")


def test_unknown_reasons_and_fields_fall_back_without_internal_names() -> None:
    errors = field_errors([("consents[0].purpose", "is given twice"),
                           ("website", "Value error, is odd")], FIELDS, "de")
    first, second = errors
    assert (first.field, first.label, first.text) == (
        "purpose", "Was Sie erhalten möchten", "is given twice")
    assert (second.field, second.label, second.text) == ("", "Dieses Formular", "is odd")
    assert errors.ids == {"purpose": first.id}
    assert len({first.id, second.id}) == 2


@pytest.mark.parametrize(("reason", "german"), [
    ("has 6 cells; the first line names 5 columns",
     "Diese Zeile hat 6 Zellen; die erste Zeile nennt 5 Spalten."),
    ("is in the future", "Dieses Datum liegt in der Zukunft."),
    ("is not a date (use YYYY-MM-DD or DD.MM.YYYY)",
     "Das ist kein Datum. Schreiben Sie es als JJJJ-MM-TT oder TT.MM.JJJJ."),
    ("an email address or a phone number is required",
     "Es wird eine E-Mail-Adresse oder eine Telefonnummer gebraucht."),
])
def test_an_imports_reasons_read_in_german(reason: str, german: str) -> None:
    assert reason_text(reason, "de") == german
    assert reason_text(reason, "en") != reason  # in words a person reads, in English too
