"""Normalisation of contact details before blind indexing and storage.

Two spellings of one address must give one index, and nothing that would
merge two different people: the domain is IDNA-normalised and lower-cased,
the local part is Unicode-NFC and lower-cased (as every large mailbox
provider treats it), and provider-specific tricks (dots, +tags) are left
alone.
"""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ehrlich.errors import InvalidInput

MAX_EMAIL_CHARS = 320


def normalise_email(value: str, *, field: str = "email") -> str:
    text = unicodedata.normalize("NFC", value.strip())
    if not text:
        raise InvalidInput.one(field, "is empty")
    if len(text) > MAX_EMAIL_CHARS:
        raise InvalidInput.one(field, f"is longer than {MAX_EMAIL_CHARS} characters")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput.one(field, f"is not a valid email address ({exc})") from exc
    return f"{result.local_part.lower()}@{result.ascii_domain.lower()}"


def normalise_phone(value: str, *, region: str | None, field: str = "phone") -> str:
    """E.164; a number without +country code is read in `region`."""
    text = value.strip()
    if not text:
        raise InvalidInput.one(field, "is empty")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput.one(field, f"is not a phone number ({exc})") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput.one(field, "is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
