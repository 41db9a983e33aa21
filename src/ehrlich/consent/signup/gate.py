"""Bot defences of the public signup: honeypot, per-address rate limit, CAPTCHA, and a
per-recipient limit on confirmation mails.

Counts live in the shared `CounterStore` of the staff sign-in (Redis or the
database), keyed by an HMAC of the client's address bucket (IPv4 alone, IPv6
per /64). Past `captcha_after` signups an hour from one address, the
self-hosted proof-of-work CAPTCHA must be solved; past `per_hour`, signups
from that address are refused until the window slides on.

A browser without JavaScript cannot solve the CAPTCHA. It says so with the
form's `no_script` field (a hidden input inside `<noscript>`, and a button that
/static/captcha.js removes when scripts run), and is then let through without
proof of work, but only `no_script_per_hour` times an hour
per address: anyone can claim to have no JavaScript, so this allowance is
small, and the double opt-in mail (limited per recipient by `RecipientLimit`)
remains the defence that matters.
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
RECIPIENT_WINDOW_SECONDS = 86400
CAPTCHA_PURPOSE = "signup"
Verdict = Literal["ok", "captcha", "limited"]


@dataclass(frozen=True)
class GateDecision:
    verdict: Verdict
    challenge: dict[str, Any] | None = None


class SignupGate:
    def __init__(self, store: CounterStore, captcha: CaptchaService, *, key: bytes,
                 per_hour: int, captcha_after: int, no_script_per_hour: int = 0) -> None:
        self._store = store
        self._captcha = captcha
        self._key = key
        self.per_hour = per_hour
        self.captcha_after = captcha_after
        self.no_script_per_hour = no_script_per_hour

    def _name(self, address: str) -> str:
        digest = hmac_sha256(self._key, address_bucket(address).encode()).hex()[:32]
        return f"signup:{digest}"

    def challenge(self, *, now: datetime) -> dict[str, Any]:
        return self._captcha.challenge(purpose=CAPTCHA_PURPOSE, level=0, now=now)

    def needs_captcha(self, address: str, *, now: datetime) -> bool:
        seen = self._store.estimate(self._name(address), window=WINDOW_SECONDS, now=now)
        return seen >= self.captcha_after

    def admit(self, address: str, *, captcha: str | None, now: datetime,
              no_script: bool = False) -> GateDecision:
        """Count the attempt; say whether it may go ahead."""
        count = self._store.add(self._name(address), 1, window=WINDOW_SECONDS, now=now)
        if count > self.per_hour:
            return GateDecision("limited")
        if count <= self.captcha_after or self._captcha.verify(
                captcha, purpose=CAPTCHA_PURPOSE, min_level=0, now=now):
            return GateDecision("ok")
        if no_script:
            used = self._store.add(f"{self._name(address)}:no-script", 1,
                                   window=WINDOW_SECONDS, now=now)
            return GateDecision("ok" if used <= self.no_script_per_hour else "limited")
        return GateDecision("captcha", self.challenge(now=now))


class RecipientLimit:
    """At most `per_day` confirmation mails to one address, whoever asks and from where.

    Keyed by the address's blind index, so the store never holds the address.
    The signer's answer does not change when the limit holds a mail back: it
    would tell whether the address was signed up before.
    """

    def __init__(self, store: CounterStore, *, per_day: int) -> None:
        self._store = store
        self.per_day = per_day

    def allow(self, email_index: bytes, *, now: datetime) -> bool:
        """Count one mail to the address; False when it must not be sent."""
        name = f"signup-mail:{email_index.hex()[:32]}"
        return self._store.add(name, 1, window=RECIPIENT_WINDOW_SECONDS, now=now) <= self.per_day
