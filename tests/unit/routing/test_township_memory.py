"""Partition-owned duplicate memory: rebuilt per township on assignment, dropped on revoke, flat lookups, and
duplicates never crossing a township."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from core.cases import AttachEvent, OpenCase
from core.events import EVENT_ADAPTER
from core.routed import RoutedEvent
from dispatch.routing.decision import decide
from dispatch.routing.duplicates import DuplicatePolicy, Opened, RecentOpens, distance_m
from dispatch.routing.township_memory import TownshipMemory, deduplicate
from tests.unit.factories import event_body, snapshot

NOW = datetime.now(UTC)
POLICY = DuplicatePolicy(radius_m=50, window=timedelta(hours=2))


def routed(lon: float = 105.05, lat: float = 32.05, **fields: Any) -> RoutedEvent:
    event = EVENT_ADAPTER.validate_python(event_body(location={"lon": lon, "lat": lat}, **fields))
    command = decide(event, snapshot(), NOW)
    assert isinstance(command, OpenCase)
    return RoutedEvent(command=command, event=event.model_dump(mode="json"))


def test_a_township_new_to_the_partition_is_missing_until_rebuilt_from_its_open_cases() -> None:
    memory, item = TownshipMemory(POLICY), routed()
    assert memory.missing([(2, item.township)]) == {item.township}
    stored = uuid.uuid4()
    memory.rebuild(2, item.township, [Opened(stored, "0199", 105.05, 32.05, NOW - timedelta(hours=1))])
    assert memory.missing([(2, item.township)]) == set()
    (decision,) = deduplicate([(2, item)], memory, split=set())
    assert isinstance(decision, AttachEvent) and decision.case_id == stored and decision.fallback == item.command


def test_revoking_a_partition_forgets_its_townships_and_a_new_assignment_rebuilds_them() -> None:
    memory, item = TownshipMemory(POLICY), routed()
    memory.rebuild(1, item.township, [])
    deduplicate([(1, item)], memory, split=set())
    memory.drop([1])
    assert memory.missing([(1, item.township)]) == {item.township} and memory.townships() == 0


def test_a_partition_kept_through_a_rebalance_keeps_the_cases_it_opened_and_one_gone_elsewhere_forgets() -> None:
    memory, first, second = TownshipMemory(POLICY), routed(), routed(105.0502, 32.05)
    memory.rebuild(1, first.township, [])
    memory.rebuild(4, "elsewhere", [])
    (opened,) = deduplicate([(1, first)], memory, split=set())
    memory.revoke([1, 4])
    memory.assign([1, 2])
    assert memory.missing([(1, first.township), (4, "elsewhere")]) == {"elsewhere"}
    (decision,) = deduplicate([(1, second)], memory, split=set())
    assert isinstance(decision, AttachEvent) and decision.case_id == opened.case_id


def test_events_of_one_batch_attach_to_the_case_the_first_of_them_opens() -> None:
    memory, first, second = TownshipMemory(POLICY), routed(), routed(105.0502, 32.05)
    memory.rebuild(0, first.township, [])
    opened, attached = deduplicate([(0, first), (0, second)], memory, split=set())
    assert isinstance(opened, OpenCase)
    assert isinstance(attached, AttachEvent) and attached.case_id == first.command.case_id


def test_an_event_split_off_opens_its_own_case_and_radius_zero_never_attaches() -> None:
    memory, first, second = TownshipMemory(POLICY), routed(), routed(105.0502, 32.05)
    memory.rebuild(0, first.township, [])
    deduplicate([(0, first)], memory, split=set())
    (alone,) = deduplicate([(0, second)], memory, split={second.command.source.event_id})
    assert alone == second.command
    off = TownshipMemory(DuplicatePolicy(radius_m=0, window=POLICY.window))
    off.rebuild(0, first.township, [])
    assert all(isinstance(d, OpenCase) for d in deduplicate([(0, first), (0, second)], off, split=set()))


def test_duplicates_never_cross_a_township() -> None:
    """Two events 10 m apart, on either side of a township border, stay two cases."""
    memory, here = TownshipMemory(POLICY), routed()
    across = routed(lon=105.05 + 10 / 94_500)  # a degree of longitude is about 94.5 km at 32°N
    assert 9 < distance_m(105.05, 32.05, across.command.source.location.lon, 32.05) < 11
    elsewhere = across.model_copy(update={"command": across.command.model_copy(update={"township_code": "510822101"})})
    memory.rebuild(0, here.township, [])
    memory.rebuild(0, elsewhere.township, [])
    first, second = deduplicate([(0, here), (0, elsewhere)], memory, split=set())
    assert isinstance(first, OpenCase) and isinstance(second, OpenCase)


def test_a_lookup_looks_only_at_the_cases_near_its_point_however_many_are_remembered() -> None:
    recent = RecentOpens(POLICY)
    for i in range(100_000):
        lon, lat = 104.0 + (i % 1000) * 0.001, 31.0 + (i // 1000) * 0.001
        recent.remember(Opened(uuid.uuid4(), "0199", lon, lat, NOW))
    assert len(recent) == 100_000
    # Cases 100 m apart: a 50 m radius needs to look at the handful in the buckets around the point, not 100,000.
    assert len(recent.candidates("0199", 104.5, 31.05)) <= 9
    assert recent.near("0199", 104.5001, 31.05, NOW) is not None
