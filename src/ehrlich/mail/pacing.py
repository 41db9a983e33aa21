"""Token buckets for bulk sending: one for the whole sender, one per recipient domain.

A bucket holds at most `burst` tokens and refills at `rate` per second; taking
a token when none is left waits until one has refilled. The clock and the
sleep are parameters, so tests run without waiting. `rate <= 0` means
unlimited. The per-domain buckets keep a large mailbox provider from seeing
more than its share however the audience is ordered; a connection that waits
for one domain holds only that connection, the others keep sending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    def __init__(self, rate: float, *, burst: float | None = None,
                 clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._clock = clock
        self._stamp = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; how long to wait before using it (0: at once)."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


@dataclass
class Pacer:
    """The sender-wide bucket and one bucket per recipient domain."""

    rate: float = 0.0
    per_domain_rate: float = 0.0
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    _overall: TokenBucket = field(init=False)
    _domains: dict[str, TokenBucket] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._overall = TokenBucket(self.rate, clock=self.clock)

    def _domain(self, domain: str) -> TokenBucket:
        with self._lock:
            bucket = self._domains.get(domain)
            if bucket is None:
                bucket = self._domains[domain] = TokenBucket(self.per_domain_rate,
                                                             clock=self.clock)
            return bucket

    def wait(self, domain: str) -> float:
        """Block until a message to `domain` may go; returns the time waited."""
        delay = max(self._overall.reserve(), self._domain(domain.lower()).reserve())
        if delay > 0:
            self.sleep(delay)
        return delay
