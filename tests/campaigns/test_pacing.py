"""Token buckets with a fixed clock: no sleeping, the waits they ask for."""

from __future__ import annotations

from ehrlich.mail.pacing import Pacer, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(10, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0]
    assert abs(bucket.reserve() - 0.1) < 1e-9
    clock.now += 1.0
    assert bucket.reserve() == 0


def test_pacer_limits_each_domain_apart() -> None:
    clock = Clock()
    pacer = Pacer(rate=0, per_domain_rate=2, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        assert pacer.wait("example.org") == 0
    assert pacer.wait("example.net") == 0  # another domain: its own bucket
    waited = pacer.wait("Example.ORG")
    assert abs(waited - 0.5) < 1e-9
    assert clock.slept == [waited]


def test_overall_rate_over_many_messages() -> None:
    clock = Clock()
    pacer = Pacer(rate=50, clock=clock, sleep=clock.sleep)
    for i in range(500):
        pacer.wait(f"d{i % 13}.example")
    assert 9.0 <= clock.now <= 10.0  # 500 messages at 50/s, less the first burst
