"""An alert storm folds: repeats from one device and category attach to the device's open case while they keep
coming, whatever the duplicate radius; another device, another category or a quiet spell opens a new case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from core.cases import AttachEvent, OpenCase
from core.events import EVENT_ADAPTER
from core.routed import RoutedEvent
from dispatch.routing.decision import decide
from dispatch.routing.duplicates import DuplicatePolicy, Opened
from dispatch.routing.township_memory import TownshipMemory, deduplicate
from tests.unit.factories import event_body, snapshot

START = datetime.now(UTC)
NO_RADIUS = DuplicatePolicy(radius_m=0, window=timedelta(hours=2), storm_window=timedelta(minutes=10))


def alert(at: datetime, device: str = "cam-7", category: str = "fire", lon: float = 105.05) -> RoutedEvent:
    body: dict[str, Any] = event_body(
        type="sensor_alert", device_id=device, category=category, location={"lon": lon, "lat": 32.05}
    )
    event = EVENT_ADAPTER.validate_python(body)
    command = decide(event, snapshot(), at)
    assert isinstance(command, OpenCase)
    return RoutedEvent(command=command, event=event.model_dump(mode="json"))


def run(memory: TownshipMemory, *items: RoutedEvent) -> list[OpenCase | AttachEvent]:
    for item in items:
        if memory.missing([(0, item.township)]):
            memory.rebuild(0, item.township, [])
    return deduplicate([(0, i) for i in items], memory, split=set())


def test_a_thousand_alerts_of_one_camera_make_one_case() -> None:
    memory = TownshipMemory(NO_RADIUS)
    storm = [alert(START + timedelta(seconds=i)) for i in range(1000)]
    decisions = run(memory, *storm)
    opened = [d for d in decisions if isinstance(d, OpenCase)]
    assert len(opened) == 1
    assert {d.case_id for d in decisions} == {opened[0].case_id}


def test_the_window_runs_from_the_last_alert_so_a_long_storm_stays_one_case() -> None:
    memory = TownshipMemory(NO_RADIUS)
    steps = [alert(START + timedelta(minutes=8 * i)) for i in range(6)]  # 40 minutes, never 10 apart
    assert len({d.case_id for d in run(memory, *steps)}) == 1
    (after_quiet,) = run(memory, alert(START + timedelta(minutes=40 + 11)))
    assert isinstance(after_quiet, OpenCase)


def test_another_device_or_category_opens_its_own_case() -> None:
    memory = TownshipMemory(NO_RADIUS)
    first, other_device, other_category = run(
        memory, alert(START), alert(START, device="cam-8"), alert(START, category="flood")
    )
    assert all(isinstance(d, OpenCase) for d in (first, other_device, other_category))


def test_a_device_case_found_open_on_rebuild_keeps_folding() -> None:
    memory, item = TownshipMemory(NO_RADIUS), alert(START)
    stored = uuid.uuid4()
    seen = START - timedelta(minutes=5)
    earlier = Opened(stored, "1299", 105.05, 32.05, START - timedelta(hours=3), "cam-7", seen)
    memory.rebuild(0, item.township, [earlier])
    (decision,) = deduplicate([(0, item)], memory, split=set())
    assert isinstance(decision, AttachEvent) and decision.case_id == stored


def test_an_alert_split_off_its_case_opens_its_own() -> None:
    memory = TownshipMemory(NO_RADIUS)
    first = alert(START)
    run(memory, first)
    again = alert(START + timedelta(seconds=1))
    (decision,) = deduplicate([(0, again)], memory, split={again.command.source.event_id})
    assert isinstance(decision, OpenCase)
