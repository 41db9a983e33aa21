"""Bot and abuse defences of the `/my-data` form: per client as signup does (the
shared `SignupGate` rules with a key of their own, so the two forms count apart,
and the same self-hosted CAPTCHA), and per recipient: at most `per_day` link mails to
one address, counted by its blind index, so the store never holds the address."""

from __future__ import annotations

from datetime import datetime

from ehrlich.captcha.service import CaptchaService
from ehrlich.consent.signup.gate import SignupGate
from ehrlich.counters.interfaces import CounterStore
from ehrlich.crypto import Keyring
from ehrlich.settings import Settings

RECIPIENT_WINDOW_SECONDS = 86400
MAILS_PER_RECIPIENT_PER_DAY = 3


class LinkMailLimit:
    def __init__(self, store: CounterStore, *, per_day: int) -> None:
        self._store = store
        self.per_day = per_day

    def allow(self, email_index: bytes, *, now: datetime) -> bool:
        """Count one link mail to the address; False when it must not be sent."""
        name = f"my-data-mail:{email_index.hex()[:32]}"
        return self._store.add(name, 1, window=RECIPIENT_WINDOW_SECONDS, now=now) <= self.per_day


def build_gate(settings: Settings, keyring: Keyring, store: CounterStore,
               captcha: CaptchaService) -> SignupGate:
    """Per client address: the signup's limits, counted under a key of this form."""
    return SignupGate(store, captcha, key=keyring.token_key("my-data-throttle"),
                      per_hour=settings.signup_per_hour,
                      captcha_after=settings.signup_captcha_after,
                      no_script_per_hour=settings.signup_no_script_per_hour)
