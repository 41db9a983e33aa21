"""The brand every public page shows, kept by each process for a few seconds.

Every public page names the business (`branding.current_brand`): without this, a
database read per page, about a sixth of a preference change's server time. A
process keeps the brand for `LIFETIME` seconds and forgets it as soon as one of its
own transactions that change it commits (saved branding, a published notice, whose
controller names the business until branding is saved); other processes show the
change within the lifetime. The product's own name, shown before any notice is
published, is never kept: the first publication shows at once everywhere. The logo
and the stylesheet are always read afresh (`/brand/logo`, `/brand.css`), so a page a
little older than the change still gets them revalidated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from ehrlich.notices.schemas import Brand

LIFETIME = 5.0
"""Seconds a process shows the brand it read; another process's change shows within it."""


class BrandCache:
    def __init__(self, lifetime: float = LIFETIME, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lifetime, self._clock = lifetime, clock
        self._lock = threading.Lock()
        self._kept: tuple[float, Brand] | None = None
        # Bumped by every forget: a read that began before it does not keep its result.
        self._generation = 0

    def get(self, read: Callable[[], Brand]) -> Brand:
        """The kept brand, or `read()` kept for the lifetime (unless provisional)."""
        now = self._clock()
        with self._lock:
            kept, generation = self._kept, self._generation
        if kept is not None and now < kept[0]:
            return kept[1]
        brand = read()
        with self._lock:
            if self._generation == generation and not brand.provisional:
                self._kept = (now + self._lifetime, brand)
        return brand

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._kept = None

    def forget_after_commit(self, session: Session) -> None:
        """Call in a transaction that changes the brand: forgotten once it commits."""
        event.listen(session, "after_commit", lambda _session: self.forget(), once=True)
