"""Refused input on the public forms: known reasons translated, unknown ones as written,
unknown fields never shown by their internal name."""

from __future__ import annotations

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
