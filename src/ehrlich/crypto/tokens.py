"""Signed, purpose-bound, optionally expiring tokens for links in mails and pages.

    base64url(payload) "." base64url(HMAC-SHA256(purpose key, payload))

The payload is compact JSON: {"p": purpose, "s": subject, "e": expiry or null,
"d": extra data}. The signing key is derived per purpose, so a token for one
purpose never verifies for another. Time is a parameter (`now`).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from ehrlich.crypto import _primitives as p
from ehrlich.crypto.keyring import Keyring
from ehrlich.errors import EhrlichError

MAX_TOKEN_CHARS = 2048


class TokenInvalid(EhrlichError):
    title = "Invalid link"


class TokenExpired(TokenInvalid):
    title = "Link expired"


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    subject: str
    expires_at: int | None
    data: dict[str, Any]


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(keyring: Keyring, *, purpose: str, subject: str, now: int,
               ttl_seconds: int | None, data: dict[str, Any] | None = None) -> str:
    expires = None if ttl_seconds is None else now + ttl_seconds
    payload = json.dumps({"p": purpose, "s": subject, "e": expires, "d": data or {}},
                         separators=(",", ":"), sort_keys=True).encode()
    body = _b64e(payload)
    return body + "." + _b64e(p.hmac_sha256(keyring.token_key(purpose), body.encode()))


def verify_token(keyring: Keyring, token: str, *, purpose: str, now: int) -> TokenClaims:
    """Return the claims, or raise `TokenInvalid`/`TokenExpired`; fails closed."""
    invalid = TokenInvalid("this link is not valid; request a new one")
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise invalid
    body, sig = token.split(".")
    try:
        given = _b64d(sig)
        expected = p.hmac_sha256(keyring.token_key(purpose), body.encode())
        if not p.constant_time_equal(given, expected):
            raise invalid
        doc = json.loads(_b64d(body))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid from exc
    if not isinstance(doc, dict) or doc.get("p") != purpose:
        raise invalid
    expires = doc.get("e")
    if expires is not None and now >= int(expires):
        raise TokenExpired("this link has expired; request a new one")
    return TokenClaims(purpose=purpose, subject=str(doc.get("s")), expires_at=expires,
                       data=dict(doc.get("d") or {}))
