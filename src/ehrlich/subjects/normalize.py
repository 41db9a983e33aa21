"""Normalisation of contact details before blind indexing and storage.

Two spellings of one address must give one index, and nothing that would
merge two different people: the domain is IDNA-normalised and lower-cased,
the local part is Unicode-NFC and lower-cased (as every large mailbox
provider treats it), and provider-specific tricks (dots, +tags) are left
alone.

Bulk imports normalise millions of rows, so the plain cases (an ASCII address
of the common shape; a number already written in international form) take a
fast path that only ever *accepts*; anything else goes through
email-validator and phonenumbers. Property tests hold the two paths to the
same answers.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
)

from ehrlich.errors import InvalidInput

MAX_EMAIL_CHARS = 320

_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_EMAIL = re.compile(
    rf"(?P<local>{_ATEXT}+(?:\.{_ATEXT}+)*)@(?P<domain>(?:{_LABEL}\.)+[a-z]{{2,63}})",
    re.IGNORECASE | re.ASCII,
)
_SPECIAL_SUFFIXES = tuple("." + d for d in SPECIAL_USE_DOMAIN_NAMES)
_PHONE_SEPARATORS = str.maketrans("", "", " -./()\u00a0")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)


def _plain_email(text: str) -> str | None:
    match = _PLAIN_EMAIL.fullmatch(text)
    if match is None or len(text) > 254 or len(match["local"]) > 64:
        return None
    domain = match["domain"].lower()
    if domain.endswith(_SPECIAL_SUFFIXES) or len(domain) > 253:
        return None
    if any(label[2:4] == "--" for label in domain.split(".")):
        return None  # reserved for IDNA A-labels (RFC 5891 4.2.3.1): the full parser decides
    return f"{match['local'].lower()}@{domain}"


def normalise_email(value: str, *, field: str = "email") -> str:
    text = unicodedata.normalize("NFC", value.strip())
    if not text:
        raise InvalidInput.one(field, "is empty")
    if len(text) > MAX_EMAIL_CHARS:
        raise InvalidInput.one(field, f"is longer than {MAX_EMAIL_CHARS} characters")
    plain = _plain_email(text)
    if plain is not None:
        return plain
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput.one(field, f"is not a valid email address ({exc})") from exc
    return f"{result.local_part.lower()}@{result.ascii_domain.lower()}"


@cache
def _parsing_prefixes(code: int) -> tuple[re.Pattern[str], ...]:
    """The national prefixes the full parser may strip or rewrite after this country code
    (Madagascar's "2000000" becomes "202000000"; a 7-digit NANP number gains its area code)."""
    patterns = []
    for region in COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        if metadata is not None and metadata.national_prefix_for_parsing:
            patterns.append(re.compile(metadata.national_prefix_for_parsing))
    return tuple(patterns)


def _international_phone(text: str) -> str | None:
    """E.164 for a number written as +CC… (country codes are prefix-free)."""
    digits = text.translate(_PHONE_SEPARATORS)
    if _E164.fullmatch(digits) is None:
        return None
    for size in (1, 2, 3):
        code = int(digits[1:1 + size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            national = digits[1 + size:]
            if not national or national[0] == "0":
                return None  # leading zeros are significant in some plans: take the full parser
            if any(prefix.match(national) for prefix in _parsing_prefixes(code)):
                return None  # the full parser may rewrite it
            if not _possible_length(code, len(national)):
                return None
            # E.164 of a number without leading zeros is "+", the code and the national
            # number: the digits as written
            return digits
    return None


@cache
def _possible_length(code: int, length: int) -> bool:
    """`phonenumbers.is_possible_number` for a national number of `length` digits (no
    leading zero) after this country code: the library decides by the length alone."""
    number = PhoneNumber(country_code=code, national_number=int("1" * length))
    return bool(phonenumbers.is_possible_number(number))


def normalise_phone(value: str, *, region: str | None, field: str = "phone") -> str:
    """E.164; a number without +country code is read in `region`."""
    text = value.strip()
    if not text:
        raise InvalidInput.one(field, "is empty")
    quick = _international_phone(text)
    if quick is not None:
        return quick
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput.one(field, f"is not a phone number ({exc})") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput.one(field, "is not a possible phone number")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))
