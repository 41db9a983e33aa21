"""TOTP second factor (RFC 6238 via pyotp): 30-second steps, each code accepted once.

The enrolment QR code is rendered as inline SVG by segno, so the page loads
nothing from anywhere else.
"""

from __future__ import annotations

import io
from datetime import datetime

import pyotp

from ehrlich.crypto.digests import constant_time_equal

STEP_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1  # accept the previous and next step for clock drift


def new_secret() -> str:
    return pyotp.random_base32(length=32)  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """An SVG element (no XML declaration) for embedding in a page.

    It carries a `viewBox` and no fixed size, so CSS scales the whole code instead of
    cropping it, and a white background with the four-module quiet zone ISO/IEC 18004
    asks for, so it scans in a dark theme too.
    """
    import segno  # only the enrolment page draws one

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, xmldecl=False, svgns=True,
                                    title="TOTP enrolment code", border=4, dark="#000",
                                    light="#fff", omitsize=True)
    return out.getvalue().decode()


def matching_step(secret: str, code: str, *, now: datetime, last_step: int) -> int | None:
    """The time step the code belongs to, if it is valid and newer than `last_step`."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if constant_time_equal(totp.generate_otp(step).encode(), code.encode()):
            found = step
    if found is None or found <= last_step:
        return None
    return found


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at `now` (for tests and tooling)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(now)
