"""Masked forms of personal values, for lists and pages that should not show them whole.

Enough stays to tell people apart at a glance (the first letter, an email's domain,
a phone number's country code and last two digits); nothing more.
"""

from __future__ import annotations

from typing import Any

DOTS = "••"


def mask_email(value: str | None) -> str | None:
    """`ada@example.org` → `a••@example.org`."""
    if not value:
        return None
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}{DOTS}@{domain}" if local else f"{value[:1]}{DOTS}"


def mask_phone(value: str | None) -> str | None:
    """`+4915112345612` → `+49 ••• •• 12` (E.164: a country code of up to three digits)."""
    if not value:
        return None
    digits = value.lstrip("+")
    if len(digits) < 6:
        return f"{DOTS}{digits[-1:]}"
    size = 1 if digits[0] in "17" else 2 if digits[:2] in _TWO_DIGIT else 3
    code = digits[:size]
    return f"+{code} ••• •• {digits[-2:]}"


# The two-digit country codes (ITU-T E.164); 1 and 7 are one digit, all others three.
_TWO_DIGIT = frozenset({
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
    "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
    "95", "98",
})


def mask_name(value: str | None) -> str | None:
    """`Ada Lovelace` → `A•• L••`."""
    if not value:
        return None
    return " ".join(f"{word[:1]}{DOTS}" for word in value.split())


def mask_value(value: Any) -> str:
    """An attribute's value: its first character for text, dots for anything else."""
    if isinstance(value, str) and value:
        return f"{value[:1]}{DOTS}"
    return DOTS
