"""Grandfather-father-son retention: properties over random backup histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.backup.retention import RetentionPolicy, keep, max_backup_age
from ehrlich.errors import InvalidInput

START = datetime(2025, 1, 1, tzinfo=UTC)
policies = st.tuples(st.integers(0, 10), st.integers(0, 6), st.integers(0, 6)).filter(
    lambda counts: sum(counts) > 0).map(lambda counts: RetentionPolicy(*counts))
times = st.lists(st.integers(0, 400 * 24 * 60).map(lambda m: START + timedelta(minutes=m)),
                 max_size=60)


def test_defaults_and_stated_maximum_age() -> None:
    policy = RetentionPolicy()
    assert (policy.daily, policy.weekly, policy.monthly) == (7, 4, 3)
    assert max_backup_age(policy, timedelta(days=1)) == timedelta(days=64)


def test_daily_backups_for_a_year_keep_the_expected_set() -> None:
    history = [START + timedelta(days=d, hours=2) for d in range(365)]
    now = history[-1]
    kept = sorted(keep(history, RetentionPolicy(), now=now))
    assert kept[-7:] == history[-7:]
    assert len(kept) <= 7 + 4 + 3
    assert kept[0] >= now - timedelta(days=63)


@given(policies, times, st.integers(0, 500 * 24 * 60))
@settings(max_examples=300)
def test_keep_is_a_subset_and_idempotent(policy: RetentionPolicy, history: list[datetime],
                                         at: int) -> None:
    now = START + timedelta(minutes=at)
    kept = keep(history, policy, now=now)
    assert kept <= set(history)
    assert keep(kept, policy, now=now) == kept
    past = [t for t in history if t <= now]
    if past:
        assert max(past) in kept  # the newest backup is never deleted
    assert len([t for t in kept if t <= now]) <= policy.daily + policy.weekly + \
        policy.monthly + 1


@given(policies, st.integers(1, 48), st.integers(2, 500), st.integers(0, 1000))
@settings(max_examples=150, deadline=None)
def test_oldest_backup_never_exceeds_the_stated_age(policy: RetentionPolicy, every_hours: int,
                                                    runs: int, offset_hours: int) -> None:
    """Back up and prune on a schedule; no backup outlives `max_backup_age`."""
    interval = timedelta(hours=every_hours)
    bound = max_backup_age(policy, interval)
    stored: set[datetime] = set()
    for n in range(runs):
        now = START + timedelta(hours=offset_hours) + n * interval
        stored.add(now)
        stored = keep(stored, policy, now=now)
        assert all(now - t <= bound - interval for t in stored)


def test_future_backups_are_kept() -> None:
    future = START + timedelta(days=3)
    assert future in keep([START, future], RetentionPolicy(1, 0, 0), now=START)


def test_policy_refuses_negative_or_empty() -> None:
    with pytest.raises(InvalidInput, match=r"backup_keep\.weekly"):
        RetentionPolicy(1, -1, 0)
    with pytest.raises(InvalidInput, match="at least one"):
        RetentionPolicy(0, 0, 0)
