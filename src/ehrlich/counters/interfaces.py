"""Shared, cross-process state for throttling: a protocol with two backends.

Redis when `EHRLICH_REDIS_URL` is set, the database otherwise (`counters.stores`).
Counters live in fixed time buckets named by `now`, so time stays a
parameter even with Redis; the estimate slides across two buckets, so counts
decay smoothly once an attack stops.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


def bucket_of(now: datetime, window: int) -> tuple[int, float]:
    """The bucket number for `now` and how far into it `now` is (0..1)."""
    ts = now.timestamp()
    return int(ts // window), (ts % window) / window


def sliding(current: float, previous: float, fraction: float) -> float:
    return current + previous * (1.0 - fraction)


class CounterStore(Protocol):
    def add(self, key: str, amount: float, *, window: int, now: datetime) -> float:
        """Add to `key` and return the sliding-window estimate including it."""
        ...

    def estimate(self, key: str, *, window: int, now: datetime) -> float:
        ...

    def claim(self, key: str, *, until: datetime, now: datetime) -> bool:
        """True for the first claim of `key`; False while an earlier one holds."""
        ...

    def forget(self, key: str, *, window: int, now: datetime) -> None:
        """Drop the counts of `key` (e.g. after a successful login)."""
        ...
