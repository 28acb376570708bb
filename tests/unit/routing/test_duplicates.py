"""Duplicate detection in memory: near, same category, within the window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dispatch.routing.duplicates import DuplicatePolicy, Opened, RecentOpens, distance_m

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def test_distance_is_metres_on_the_ground() -> None:
    assert 90 < distance_m(105.0, 32.5, 105.001, 32.5) < 96
    assert 110 < distance_m(105.0, 32.5, 105.0, 32.501) < 112


def test_only_a_near_recent_case_of_the_same_category_is_a_duplicate() -> None:
    recent = RecentOpens(DuplicatePolicy(radius_m=50, window=timedelta(hours=2)))
    case = uuid.uuid4()
    recent.remember(Opened(case, "1199", 105.0, 32.5, T0))
    assert recent.near("1199", 105.0003, 32.5, T0 + timedelta(minutes=5)) == case
    assert recent.near("1499", 105.0003, 32.5, T0 + timedelta(minutes=5)) is None
    assert recent.near("1199", 105.001, 32.5, T0 + timedelta(minutes=5)) is None
    assert recent.near("1199", 105.0, 32.5, T0 + timedelta(hours=3)) is None
