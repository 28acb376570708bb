"""The retry policy: exponential back-off from the base, capped, given up after the most attempts."""

from __future__ import annotations

from datetime import timedelta

from dispatch.delivery.backoff import Backoff

POLICY = Backoff(base=timedelta(seconds=5), cap=timedelta(minutes=10), max_attempts=8)


def test_the_wait_doubles_after_each_failure() -> None:
    assert [POLICY.delay(n).total_seconds() for n in range(1, 6)] == [5, 10, 20, 40, 80]


def test_the_wait_never_passes_the_cap_however_many_failures() -> None:
    assert POLICY.delay(8) == timedelta(minutes=10)
    assert POLICY.delay(10_000) == timedelta(minutes=10)


def test_no_failure_means_no_wait() -> None:
    assert POLICY.delay(0) == timedelta(0)


def test_a_delivery_is_given_up_at_the_most_attempts_and_not_before() -> None:
    assert not POLICY.gives_up(7)
    assert POLICY.gives_up(8) and POLICY.gives_up(9)
