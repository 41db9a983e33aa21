"""The shared counter stores: the same behaviour on SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.counters.interfaces import CounterStore, bucket_of, sliding
from ehrlich.counters.stores import (
    DatabaseCounterStore,
    RedisCounterStore,
    redis_client,
)
from ehrlich.instance.service import Instance
from tests.conftest import NOW

WINDOW = 60


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, instance: Instance) -> Iterator[CounterStore]:
    if request.param == "database":
        yield DatabaseCounterStore(instance.db)
        return
    url: str = request.getfixturevalue("redis_url")
    client = redis_client(url)
    prefix = f"test:{uuid.uuid4().hex}:"
    yield RedisCounterStore(client, prefix=prefix)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def test_counts_add_up_within_a_window(store: CounterStore) -> None:
    start = NOW.replace(second=0)
    assert store.add("k", 1, window=WINDOW, now=start) == 1
    assert store.add("k", 1, window=WINDOW, now=start + timedelta(seconds=10)) == 2
    assert store.estimate("k", window=WINDOW, now=start + timedelta(seconds=20)) == 2
    assert store.estimate("other", window=WINDOW, now=start) == 0


def test_counts_decay_over_the_next_window_and_vanish_after_two(store: CounterStore) -> None:
    start = NOW.replace(second=0)
    for _ in range(10):
        store.add("k", 1, window=WINDOW, now=start)
    halfway = store.estimate("k", window=WINDOW, now=start + timedelta(seconds=WINDOW * 1.5))
    assert halfway == pytest.approx(5)
    assert store.estimate("k", window=WINDOW, now=start + timedelta(seconds=WINDOW * 2)) == 0


def test_forget_drops_the_counts(store: CounterStore) -> None:
    store.add("k", 3, window=WINDOW, now=NOW)
    store.forget("k", window=WINDOW, now=NOW)
    assert store.estimate("k", window=WINDOW, now=NOW) == 0


def test_claim_holds_until_it_expires(store: CounterStore) -> None:
    until = NOW + timedelta(seconds=30)
    assert store.claim("once", until=until, now=NOW)
    assert not store.claim("once", until=until, now=NOW + timedelta(seconds=1))
    assert store.claim("other", until=until, now=NOW)


def test_database_claim_is_free_again_after_expiry(instance: Instance) -> None:
    store = DatabaseCounterStore(instance.db)
    assert store.claim("once", until=NOW + timedelta(seconds=30), now=NOW)
    assert store.claim("once", until=NOW + timedelta(seconds=90),
                       now=NOW + timedelta(seconds=31))


@given(st.integers(min_value=0, max_value=2**35), st.integers(min_value=1, max_value=86400))
def test_bucket_fraction_is_within_the_window(ts: int, window: int) -> None:
    from datetime import UTC, datetime

    bucket, fraction = bucket_of(datetime.fromtimestamp(ts, UTC), window)
    assert 0 <= fraction < 1
    assert bucket * window <= ts < (bucket + 1) * window


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0, 0.999))
def test_sliding_estimate_lies_between_current_and_current_plus_previous(
        current: float, previous: float, fraction: float) -> None:
    value = sliding(current, previous, fraction)
    assert current <= value <= current + previous
