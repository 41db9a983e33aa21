"""Signed links of double opt-in and the preference centre.

- confirm: names the subject and, per purpose, the `requested` event it
  confirms; expires after `consent_confirm_days`. A link for one request never
  confirms a later one, and a token made for another use (unsubscribe,
  preferences) never verifies here: each use has its own signing key. To keep
  the link short, event ids and the template hash travel as base64url bytes.
- cancel: the confirmation mail's one-click link (List-Unsubscribe); it
  withdraws the purposes it names and never expires.
- preferences: the person's way into the preference centre; never expires.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ehrlich.crypto import Keyring, sign_token, token_signer, verify_token
from ehrlich.crypto.tokens import TokenInvalid

CONFIRM = "consent-confirm"
CANCEL = "consent-cancel"
PREFERENCES = "consent-preferences"


@dataclass(frozen=True)
class ConfirmClaims:
    subject_id: str
    channel: str
    requests: dict[str, str]
    """purpose -> id of the `requested` event this link confirms"""
    template_hash: str
    sent_at: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _pack_id(event_id: str) -> str:
    try:
        return _b64(uuid.UUID(event_id).bytes)
    except ValueError:
        return event_id


def _pack_hash(digest: str) -> str:
    try:
        return _b64(bytes.fromhex(digest)) if len(digest) == 64 else digest
    except ValueError:
        return digest


def _unpack(text: str, size: int) -> bytes | None:
    """The bytes a packed field holds; None for a field in text form."""
    if len(text) != size:
        return None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _unpack_id(text: str) -> str:
    raw = _unpack(text, 22)
    return text if raw is None else str(uuid.UUID(bytes=raw))


def _unpack_hash(text: str) -> str:
    raw = _unpack(text, 43)
    return text if raw is None else raw.hex()


def confirm_token(keyring: Keyring, *, subject_id: str, channel: str,
                  requests: dict[str, str], template_hash: str, now: datetime,
                  days: int) -> str:
    issued = int(now.timestamp())
    return sign_token(keyring, purpose=CONFIRM, subject=subject_id, now=issued,
                      ttl_seconds=days * 86400,
                      data={"c": channel, "i": issued, "t": _pack_hash(template_hash),
                            "r": {p: _pack_id(e) for p, e in requests.items()}})


def read_confirm_token(keyring: Keyring, token: str, *, now: datetime) -> ConfirmClaims:
    """Raises `TokenInvalid` (or its subclass `TokenExpired`)."""
    claims = verify_token(keyring, token, purpose=CONFIRM, now=int(now.timestamp()))
    channel, requests = claims.data.get("c"), claims.data.get("r")
    if (not isinstance(channel, str) or not isinstance(requests, dict) or not requests
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in requests.items())):
        raise TokenInvalid("this link is not valid")
    try:
        events = {purpose: _unpack_id(event) for purpose, event in requests.items()}
        template_hash = _unpack_hash(str(claims.data.get("t", "")))
    except (binascii.Error, ValueError) as exc:
        raise TokenInvalid("this link is not valid") from exc
    return ConfirmClaims(claims.subject, channel, events, template_hash,
                         int(claims.data.get("i", 0)))


def cancel_token(keyring: Keyring, *, subject_id: str, channel: str, purposes: list[str],
                 now: datetime) -> str:
    return sign_token(keyring, purpose=CANCEL, subject=subject_id, now=int(now.timestamp()),
                      ttl_seconds=None, data={"c": channel, "p": sorted(purposes)})


def read_cancel_token(keyring: Keyring, token: str, *, now: datetime
                      ) -> tuple[str, str, list[str]]:
    claims = verify_token(keyring, token, purpose=CANCEL, now=int(now.timestamp()))
    channel, purposes = claims.data.get("c"), claims.data.get("p")
    if (not isinstance(channel, str) or not isinstance(purposes, list)
            or not all(isinstance(p, str) for p in purposes)):
        raise TokenInvalid("this link is not valid")
    return claims.subject, channel, list(purposes)


def preferences_token(keyring: Keyring, *, subject_id: str, now: datetime) -> str:
    return preferences_signer(keyring, now=now)(subject_id)


def preferences_signer(keyring: Keyring, *, now: datetime) -> Callable[[str], str]:
    """`preferences_token` for many people (an export)."""
    return token_signer(keyring, purpose=PREFERENCES, now=int(now.timestamp()),
                        ttl_seconds=None)


def read_preferences_token(keyring: Keyring, token: str, *, now: datetime) -> str:
    return verify_token(keyring, token, purpose=PREFERENCES, now=int(now.timestamp())).subject
