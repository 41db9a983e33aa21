"""Brute-force and credential-stuffing defence: what an attempt may do before it is evaluated.

Counters per account, per client address, per (account, address) pair and
per trusted device live in the shared `CounterStore`. Each attempt is counted
*before* the password is checked (a success gives its count back), so the
number of guesses evaluated without a solved CAPTCHA is bounded exactly, even
with many server processes: at most `captcha_after_account` per account and
window (the documented bound), fewer when one address also tries others.

An attempt refused for want of a solved CAPTCHA gives its account count back:
it cost the attacker nothing, so it must not cost the owner anything either.
The account's CAPTCHA level therefore rises only with guesses that were
evaluated (free ones and ones paid for with a solved CAPTCHA), never past
what solved-and-wrong guesses would reach; `max_captcha_level` caps it at what
the owner can afford on a new device (see `CaptchaService.affordable_level`).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ehrlich.counters.interfaces import CounterStore
from ehrlich.crypto.digests import hmac_sha256


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: int = 900
    captcha_after_account: int = 3
    captcha_after_address: int = 10
    captcha_after_device: int = 5
    delay_after_pair: int = 3
    delay_base_seconds: float = 1.0
    delay_max_seconds: float = 60.0
    notify_after_account: int = 10
    max_captcha_level: int = 8
    second_factor_failures: int = 5


@dataclass(frozen=True)
class Verdict:
    """What the attempt may do: `captcha_level` is None when no CAPTCHA is needed;
    `account_failures` counts every attempt on the account, refused ones included (it
    decides the owner's notice, not the CAPTCHA level)."""

    captcha_level: int | None
    wait_seconds: int
    account_failures: float


def address_bucket(address: str) -> str:
    """IPv4 addresses count alone; IPv6 per /64, since one host usually holds a whole /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Throttle:
    def __init__(self, store: CounterStore, policy: ThrottlePolicy, *, key: bytes) -> None:
        self.store = store
        self.policy = policy
        self._key = key

    def _name(self, kind: str, value: str) -> str:
        # Keys never carry an address or email in clear.
        return f"{kind}:{hmac_sha256(self._key, value.encode()).hex()[:32]}"

    def keys(self, account: str, address: str) -> tuple[str, str, str]:
        net = address_bucket(address)
        return (self._name("acct", account), self._name("addr", net),
                self._name("pair", f"{account}\x00{net}"))

    def level_for(self, failures: float) -> int:
        """CAPTCHA cost level: one step per doubling of the account's failures."""
        over = max(failures / max(1, self.policy.captcha_after_account), 1.0)
        return min(self.policy.max_captcha_level, int(math.log2(over)))

    def current_level(self, account: str, address: str, *, now: datetime) -> int:
        acct, _, _ = self.keys(account, address)
        w = self.policy.window_seconds
        return self.level_for(self.store.estimate(acct, window=w, now=now))

    def admit(self, account: str, address: str, *, device: str | None, captcha_solved: bool,
              now: datetime) -> Verdict:
        """Count the attempt and decide whether its password may be evaluated."""
        p, w = self.policy, self.policy.window_seconds
        acct, addr, pair = self.keys(account, address)
        unsolved_key = self._name("unsolved", account)
        if device is None and not captcha_solved:
            evaluated = self.store.estimate(acct, window=w, now=now)
            if evaluated >= p.captcha_after_account:
                # Past the free guesses: refused without touching the account's count, so
                # a flood of such attempts cannot inflate it even for a moment.
                self.store.add(addr, 1, window=w, now=now)
                self.store.add(pair, 1, window=w, now=now)
                unsolved = self.store.add(unsolved_key, 1, window=w, now=now)
                return Verdict(self.level_for(evaluated), 0, evaluated + unsolved)
        n_acct = self.store.add(acct, 1, window=w, now=now)
        n_addr = self.store.add(addr, 1, window=w, now=now)
        n_pair = self.store.add(pair, 1, window=w, now=now)
        if device is not None:
            n_dev = self.store.add(self._name("dev", device), 1, window=w, now=now)
            needs_captcha = n_dev > p.captcha_after_device
        else:
            needs_captcha = n_acct > p.captcha_after_account or n_addr > p.captcha_after_address
        if needs_captcha and not captcha_solved:
            evaluated = self.store.add(acct, -1, window=w, now=now)
            unsolved = self.store.add(unsolved_key, 1, window=w, now=now)
            return Verdict(self.level_for(evaluated), 0, evaluated + unsolved)
        attempts = n_acct + self.store.estimate(unsolved_key, window=w, now=now)
        if n_pair > p.delay_after_pair:
            wait = min(p.delay_max_seconds,
                       p.delay_base_seconds * 2 ** (n_pair - p.delay_after_pair - 1))
            if not self.store.claim(f"{pair}:delay", until=now + timedelta(seconds=wait),
                                    now=now):
                return Verdict(None, max(1, math.ceil(wait)), attempts)
        return Verdict(None, 0, attempts)

    def succeeded(self, account: str, address: str, *, device: str | None,
                  now: datetime) -> None:
        w = self.policy.window_seconds
        acct, addr, pair = self.keys(account, address)
        self.store.add(acct, -1, window=w, now=now)
        self.store.add(addr, -1, window=w, now=now)
        self.store.forget(pair, window=w, now=now)
        if device is not None:
            self.store.forget(self._name("dev", device), window=w, now=now)

    def should_notify(self, account: str, failures: float, *, now: datetime) -> bool:
        """True once per window when an account's failures reach the notice threshold."""
        if failures < self.policy.notify_after_account:
            return False
        until = now + timedelta(seconds=self.policy.window_seconds)
        return self.store.claim(self._name("notify", account), until=until, now=now)

    def second_factor_failed(self, user_id: str, *, now: datetime) -> bool:
        """Count a wrong code; True when the login must start again (with a CAPTCHA)."""
        n = self.store.add(self._name("totp", user_id), 1, window=self.policy.window_seconds,
                           now=now)
        return n >= self.policy.second_factor_failures

    # -- refused attempts, audited once per account and window --------------------

    def _refusals(self, target: str, bucket: int) -> str:
        return self._name("refused", f"{target}\x00{bucket}")

    def count_refusal(self, target: str, *, now: datetime) -> None:
        """Tally a refused attempt on `target` (an account id) in the current window."""
        w = self.policy.window_seconds
        self.store.add(self._refusals(target, int(now.timestamp()) // w), 1, window=w, now=now)

    def refusals_to_report(self, target: str, *, now: datetime
                           ) -> tuple[datetime, int] | None:
        """The start and count of the last closed window's refusals on `target`, once;
        None when there were none or they were reported already."""
        w = self.policy.window_seconds
        bucket = int(now.timestamp()) // w - 1
        start = datetime.fromtimestamp(bucket * w, tz=UTC)
        # The key names its window, so read at the window's start the estimate is exact.
        count = round(self.store.estimate(self._refusals(target, bucket), window=w, now=start))
        if count < 1:
            return None
        reported = self._name("refused-reported", f"{target}\x00{bucket}")
        if not self.store.claim(reported, until=now + timedelta(seconds=2 * w), now=now):
            return None
        return start, count
