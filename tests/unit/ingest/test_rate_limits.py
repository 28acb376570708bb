"""Sliding-window counters of the rate limits, in process memory: counts, costs, Retry-After, slot reuse."""

from __future__ import annotations

import pytest

from dispatch.access.rate_limits import CounterTable, RateLimited, RateLimiter, wait_ms
from dispatch.errors import TooLarge

MINUTE = 60_000


def test_a_limit_counts_hits_and_costs_per_key() -> None:
    limiter = RateLimiter()
    for _ in range(3):
        limiter.hit("3/minute", "events from this address", "10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("3/minute", "events from this address", "10.0.0.1")
    assert 1 <= refused.value.retry_after <= 120 and "events from this address" in str(refused.value)
    limiter.hit("3/minute", "events from this address", "10.0.0.2")
    limiter.hit("30/minute", "events from this account", "gateway", cost=25)
    with pytest.raises(RateLimited):
        limiter.hit("30/minute", "events from this account", "gateway", cost=10)
    limiter.hit("30/minute", "events from this account", "gateway", cost=5)
    with pytest.raises(TooLarge):
        limiter.hit("30/minute", "events from this account", "other", cost=31)


def test_the_previous_window_fades_out_over_the_current_one() -> None:
    table = CounterTable(bytearray(32 + 64 * 32), 64)
    assert all(table.take(7, 10, MINUTE, 1, 5_000) == 0 for _ in range(10))
    assert table.take(7, 10, MINUTE, 1, 59_000) > 0
    # A quarter into the next minute, 10 * 3/4 = 7.5 of the previous still count: two more fit, not three.
    assert table.take(7, 10, MINUTE, 2, 75_000) == 0
    wait = table.take(7, 10, MINUTE, 1, 75_000)
    assert wait == wait_ms(10, MINUTE, 60_000, 2, 10, 1, 75_000) and 0 < wait <= MINUTE
    assert table.take(7, 10, MINUTE, 1, 75_000 + wait) == 0
    assert table.take(7, 10, MINUTE, 10, 200_000) == 0, "two windows later nothing counts"


def test_keys_that_share_slots_keep_their_own_counts_and_expired_slots_are_reused() -> None:
    table = CounterTable(bytearray(32 + 4 * 32), 4)
    keys = [4, 8, 12, 16]  # all start at slot 0
    for key in keys:
        assert table.take(key, 1, MINUTE, 1, 1_000) == 0
    assert all(table.take(key, 1, MINUTE, 1, 2_000) > 0 for key in keys)
    assert table.take(20, 1, MINUTE, 1, 3 * MINUTE) == 0, "a new key takes an expired slot"
    assert table.take(20, 1, MINUTE, 1, 3 * MINUTE) > 0
