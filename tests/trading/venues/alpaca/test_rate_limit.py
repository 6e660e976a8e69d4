"""The token bucket that keeps the gateway inside the broker's REST rate limit."""

import pytest

from trading.venues.alpaca.rate_limit import TokenBucket


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def bucket(rate_per_min=60.0, burst=3):
    clock = FakeClock()
    return TokenBucket(rate_per_min, burst, clock=clock, sleep=clock.sleep), clock


def test_a_full_bucket_allows_a_burst_then_refills_at_the_rate():
    b, clock = bucket()
    assert [b.try_take() for _ in range(4)] == [True, True, True, False]
    assert b.delay() == pytest.approx(1.0)  # 60/min: one a second
    clock.now += 1.0
    assert b.try_take()
    assert not b.try_take()


def test_tokens_never_accumulate_beyond_the_burst():
    b, clock = bucket()
    clock.now += 3600
    assert sum(b.try_take() for _ in range(10)) == 3


def test_take_waits_for_the_next_token():
    b, clock = bucket()
    for _ in range(3):
        b.take()
    started = clock.now
    assert b.take()
    assert clock.now - started == pytest.approx(1.0)
    assert b.waits >= 1


def test_take_gives_up_after_its_timeout():
    b, clock = bucket(rate_per_min=6.0)
    for _ in range(3):
        b.take()
    assert not b.take(timeout_s=1.0)  # the next token is 10 s away


def test_a_broker_pause_blocks_every_token_until_retry_after():
    b, clock = bucket()
    b.pause(2.5)
    assert b.paused
    assert not b.try_take()
    assert b.delay() == pytest.approx(2.5)
    clock.now += 2.5
    assert not b.paused
    assert b.try_take()  # one request may probe at Retry-After...
    assert not b.try_take()  # ...the rest follow at the rate, not in a burst
    clock.now += 1.0
    assert b.try_take()


def test_the_alpaca_default_is_200_a_minute():
    b, clock = bucket(rate_per_min=200.0, burst=200)
    assert sum(b.try_take() for _ in range(250)) == 200
    clock.now += 60
    assert sum(b.try_take() for _ in range(250)) == 200


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (10, 0)])
def test_nonsense_limits_are_refused(rate, burst):
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)
