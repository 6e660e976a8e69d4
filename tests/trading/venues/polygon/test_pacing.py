"""The token bucket lets requests through at the plan's rate, on a simulated clock."""

import pytest

from trading.venues.polygon.pacing import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_five_a_minute_are_spaced_twelve_seconds_apart():
    clock = FakeClock()
    bucket = TokenBucket(5, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(11):
        bucket.acquire()
        times.append(clock.now)
    assert times == pytest.approx([12.0 * i for i in range(11)])
    # However a minute is placed, it holds at most five starts (plus one on its closing edge).
    for start in times:
        assert sum(start <= t < start + 60 for t in times) <= 5


def test_a_burst_lets_that_many_through_at_once_then_paces():
    clock = FakeClock()
    bucket = TokenBucket(60, burst=3, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([1.0, 1.0])


def test_idle_time_refills_but_never_beyond_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(60, burst=2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now += 3600
    assert [bucket.acquire() for _ in range(3)] == pytest.approx([0.0, 0.0, 1.0])


def test_drain_makes_the_next_request_wait_a_full_interval_and_more():
    clock = FakeClock()
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)
    bucket.drain(hold_s=2.0)
    assert bucket.acquire() == pytest.approx(3.0)


def test_a_rate_of_zero_is_no_pacing_and_a_bad_burst_is_refused():
    clock = FakeClock()
    bucket = TokenBucket(0, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(100)] == [0.0] * 100 and clock.now == 0
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(5, burst=0)
