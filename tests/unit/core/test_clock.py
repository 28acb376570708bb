"""The processors' calendar: effective dates are days in Asia/Shanghai, which turn at 16:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.clock import local_day, seconds_to_next_day


def test_the_local_day_turns_at_midnight_in_shanghai_not_in_utc() -> None:
    assert str(local_day(datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC))) == "2026-12-01"
    assert str(local_day(datetime(2026, 12, 1, 16, 0, 0, tzinfo=UTC))) == "2026-12-02"


def test_the_next_day_is_counted_to_local_midnight() -> None:
    assert seconds_to_next_day(datetime(2026, 12, 1, 15, 59, 0, tzinfo=UTC)) == 60
    assert seconds_to_next_day(datetime(2026, 12, 1, 16, 0, 0, tzinfo=UTC)) == 86_400
    assert seconds_to_next_day(datetime(2026, 12, 31, 4, 0, 0, tzinfo=UTC)) == 12 * 3600
