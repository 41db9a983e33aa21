"""Signed links of double opt-in and the preference centre.

- confirm: names the subject and, per purpose, the `requested` event it
  confirms; expires after `consent_confirm_days`. A link for one request never
  confirms a later one, and a token made for another use (unsubscribe,
  preferences) never verifies here: each use has its own signing key.
- cancel: the confirmation mail's one-click link (List-Unsubscribe); it
  withdraws the purposes it names and never expires.
- preferences: the person's way into the preference centre; never expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ehrlich.crypto import Keyring, sign_token, verify_token
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


def confirm_token(keyring: Keyring, *, subject_id: str, channel: str,
                  requests: dict[str, str], template_hash: str, now: datetime,
                  days: int) -> str:
    issued = int(now.timestamp())
    return sign_token(keyring, purpose=CONFIRM, subject=subject_id, now=issued,
                      ttl_seconds=days * 86400,
                      data={"c": channel, "r": requests, "t": template_hash, "i": issued})


def read_confirm_token(keyring: Keyring, token: str, *, now: datetime) -> ConfirmClaims:
    """Raises `TokenInvalid` (or its subclass `TokenExpired`)."""
    claims = verify_token(keyring, token, purpose=CONFIRM, now=int(now.timestamp()))
    channel, requests = claims.data.get("c"), claims.data.get("r")
    if (not isinstance(channel, str) or not isinstance(requests, dict) or not requests
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in requests.items())):
        raise TokenInvalid("this link is not valid")
    return ConfirmClaims(claims.subject, channel, dict(requests),
                         str(claims.data.get("t", "")), int(claims.data.get("i", 0)))


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
    return sign_token(keyring, purpose=PREFERENCES, subject=subject_id,
                      now=int(now.timestamp()), ttl_seconds=None)


def read_preferences_token(keyring: Keyring, token: str, *, now: datetime) -> str:
    return verify_token(keyring, token, purpose=PREFERENCES, now=int(now.timestamp())).subject
