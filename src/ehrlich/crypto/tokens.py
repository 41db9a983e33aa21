"""Signed, purpose-bound, optionally expiring tokens for links in mails and pages.

    base64url(payload || MAC)          MAC = HMAC-SHA256(purpose key, payload)[:16]
    payload = form (1 byte) | subject | expiry (4 bytes, big-endian, 0 = never) | data

`form` 1 carries the subject as the 16 bytes of its UUID, form 2 as a length
byte and UTF-8 text; `data` is compact JSON, absent when empty. The signing key
is derived per purpose, so a token for one purpose never verifies for another;
the MAC is truncated to 128 bits (NIST SP 800-107 §5.3.4), which keeps a link
short enough for one `List-Unsubscribe` line. Time is a parameter (`now`).

Tokens of the earlier form, `base64url(JSON) "." base64url(full MAC)`, still
verify: unsubscribe and preference links never expire and sit in old mails.

Decoding is strict: one token has exactly one spelling. Padding, characters
outside the URL-safe alphabet and non-zero trailing bits are refused, so the
SHA-256 of a token recorded as consent evidence names one link, not several.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ehrlich.crypto import _primitives as p
from ehrlich.crypto.keyring import Keyring
from ehrlich.errors import EhrlichError

MAX_TOKEN_CHARS = 2048
MAC_BYTES = 16
_UUID_FORM, _TEXT_FORM = 1, 2
_NEVER = 0
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


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
    """Decode unpadded base64url, refusing every spelling but the canonical one."""
    if _ALPHABET.fullmatch(text) is None or len(text) % 4 == 1:
        raise ValueError("not canonical base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64e(raw) != text:  # non-zero trailing bits
        raise ValueError("not canonical base64url")
    return raw


def _canonical_uuid(subject: str) -> bytes | None:
    """The 16 bytes of a UUID in its canonical spelling (lower-case hex, dashes after 8,
    12, 16 and 20 digits), else None: `str(uuid.UUID(s)) == s`, without building one."""
    if len(subject) != 36 or subject[8] + subject[13] + subject[18] + subject[23] != "----":
        return None
    digits = subject.replace("-", "")
    if len(digits) != 32 or not digits.isascii() or not digits.isalnum() or (
            digits != digits.lower()):
        return None
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return None


def _subject_bytes(subject: str) -> bytes:
    as_uuid = _canonical_uuid(subject)
    if as_uuid is not None:
        return bytes([_UUID_FORM]) + as_uuid
    text = subject.encode()
    if len(text) > 255:
        raise ValueError("a token subject is at most 255 bytes")
    return bytes([_TEXT_FORM, len(text)]) + text


def sign_token(keyring: Keyring, *, purpose: str, subject: str, now: int,
               ttl_seconds: int | None, data: dict[str, Any] | None = None) -> str:
    return token_signer(keyring, purpose=purpose, now=now, ttl_seconds=ttl_seconds,
                        data=data)(subject)


def token_signer(keyring: Keyring, *, purpose: str, now: int, ttl_seconds: int | None,
                 data: dict[str, Any] | None = None) -> Callable[[str], str]:
    """`sign_token` for many subjects that share the purpose, expiry and data (the links
    of an export): the key and the payload's tail are made once. The same tokens."""
    expires = _NEVER if ttl_seconds is None else now + ttl_seconds
    if ttl_seconds is not None and not 0 < expires < 2**32:  # 0 would read as "never"
        raise ValueError("a token expiry must fall between 1970 and 2106")
    tail = expires.to_bytes(4, "big") + (
        json.dumps(data, separators=(",", ":"), sort_keys=True).encode() if data else b"")
    mac = p.HmacSha256(keyring.token_key(purpose))  # the key's padded blocks hashed once

    def sign(subject: str) -> str:
        payload = _subject_bytes(subject) + tail
        return _b64e(payload + mac.digest(payload)[:MAC_BYTES])

    return sign


def _read_payload(payload: bytes) -> tuple[str, int | None, dict[str, Any]]:
    form, rest = payload[0], payload[1:]
    if form == _UUID_FORM:
        subject, rest = str(uuid.UUID(bytes=rest[:16])), rest[16:]
    elif form == _TEXT_FORM and rest:
        size = rest[0]
        subject, rest = rest[1:1 + size].decode(), rest[1 + size:]
    else:
        raise ValueError("unknown token form")
    if len(rest) < 4:
        raise ValueError("token too short")
    expires = int.from_bytes(rest[:4], "big")
    data = json.loads(rest[4:]) if rest[4:] else {}
    if not isinstance(data, dict):
        raise ValueError("token data is not an object")
    return subject, (None if expires == _NEVER else expires), data


def _read_legacy(keyring: Keyring, token: str, purpose: str
                 ) -> tuple[str, int | None, dict[str, Any]] | None:
    body, sig = token.split(".")
    expected = p.hmac_sha256(keyring.token_key(purpose), body.encode())
    if not p.constant_time_equal(_b64d(sig), expected):
        return None
    doc = json.loads(_b64d(body))
    if not isinstance(doc, dict) or doc.get("p") != purpose:
        return None
    expires = doc.get("e")
    return (str(doc.get("s")), None if expires is None else int(expires),
            dict(doc.get("d") or {}))


def verify_token(keyring: Keyring, token: str, *, purpose: str, now: int) -> TokenClaims:
    """Return the claims, or raise `TokenInvalid`/`TokenExpired`; fails closed."""
    invalid = TokenInvalid("this link is not valid; request a new one")
    if len(token) > MAX_TOKEN_CHARS or token.count(".") > 1:
        raise invalid
    try:
        if "." in token:
            claims = _read_legacy(keyring, token, purpose)
        else:
            raw = _b64d(token)
            payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
            expected = p.hmac_sha256(keyring.token_key(purpose), payload)[:MAC_BYTES]
            if not payload or not p.constant_time_equal(mac, expected):
                raise invalid
            claims = _read_payload(payload)
    except (binascii.Error, ValueError, UnicodeDecodeError, TypeError) as exc:
        raise invalid from exc
    if claims is None:
        raise invalid
    subject, expires, data = claims
    if expires is not None and now >= expires:
        raise TokenExpired("this link has expired; request a new one")
    return TokenClaims(purpose=purpose, subject=subject, expires_at=expires, data=data)
