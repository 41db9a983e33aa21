"""Bot defences of the public signup: honeypot, per-address rate limit, CAPTCHA.

Counts live in the shared `CounterStore` of the staff sign-in (Redis or the
database), keyed by an HMAC of the client's address bucket (IPv4 alone, IPv6
per /64). Past `captcha_after` signups an hour from one address, the
self-hosted proof-of-work CAPTCHA must be solved; past `per_hour`, signups
from that address are refused until the window slides on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ehrlich.auth.throttle import address_bucket
from ehrlich.captcha.service import CaptchaService
from ehrlich.counters.interfaces import CounterStore
from ehrlich.crypto.digests import hmac_sha256

WINDOW_SECONDS = 3600
CAPTCHA_PURPOSE = "signup"
Verdict = Literal["ok", "captcha", "limited"]


@dataclass(frozen=True)
class GateDecision:
    verdict: Verdict
    challenge: dict[str, Any] | None = None


class SignupGate:
    def __init__(self, store: CounterStore, captcha: CaptchaService, *, key: bytes,
                 per_hour: int, captcha_after: int) -> None:
        self._store = store
        self._captcha = captcha
        self._key = key
        self.per_hour = per_hour
        self.captcha_after = captcha_after

    def _name(self, address: str) -> str:
        digest = hmac_sha256(self._key, address_bucket(address).encode()).hex()[:32]
        return f"signup:{digest}"

    def challenge(self, *, now: datetime) -> dict[str, Any]:
        return self._captcha.challenge(purpose=CAPTCHA_PURPOSE, level=0, now=now)

    def needs_captcha(self, address: str, *, now: datetime) -> bool:
        seen = self._store.estimate(self._name(address), window=WINDOW_SECONDS, now=now)
        return seen >= self.captcha_after

    def admit(self, address: str, *, captcha: str | None, now: datetime) -> GateDecision:
        """Count the attempt; say whether it may go ahead."""
        count = self._store.add(self._name(address), 1, window=WINDOW_SECONDS, now=now)
        if count > self.per_hour:
            return GateDecision("limited")
        if count > self.captcha_after and not self._captcha.verify(
                captcha, purpose=CAPTCHA_PURPOSE, min_level=0, now=now):
            return GateDecision("captcha", self.challenge(now=now))
        return GateDecision("ok")
