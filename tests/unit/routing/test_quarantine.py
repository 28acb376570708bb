"""Quarantine decisions: unknown types, reporters outside their township, forged event ids, untrusted actors."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from core.cases import Actor
from core.events import EVENT_ADAPTER, EventEnvelope
from core.vocabulary import Role
from dispatch.routing.locate import GridIndex
from dispatch.routing.model import Person, successor_map, township_of, townships_served
from dispatch.routing.quarantine import (
    RecentSightings,
    Sighting,
    event_places,
    foreign_reporter,
    forged_id,
    impostor,
    unknown_type,
)
from tests.unit.factories import event_body, grid

TODAY = date(2026, 11, 21)
HOME, AWAY = "510822100", "510822101"
HOME_GRID, AWAY_GRID = f"{HOME}201001", f"{AWAY}201001"
INDEX = GridIndex([grid(HOME_GRID, 105.0), grid(AWAY_GRID, 105.1)])
AT_HOME, AWAY_POINT, NOWHERE = (105.05, 32.05), (105.15, 32.05), (104.5, 32.05)
MEMBER = Person("gm-1", Role.GRID_MEMBER, HOME_GRID, None, frozenset({HOME}))
SUPERVISOR = Person("sup-510822", Role.COUNTY_SUPERVISOR, "510822", None, frozenset())
PEOPLE = {p.id: p for p in (MEMBER, SUPERVISOR)}


def incident(point: tuple[float, float], reporter: str = "gm-1", **fields: Any) -> EventEnvelope:
    lon, lat = point
    body = event_body(location={"lon": lon, "lat": lat}, reporter={"id": reporter}, **fields)
    event: EventEnvelope = EVENT_ADAPTER.validate_python(body)
    return event


def seen_at(point: tuple[float, float], record: str = "case 1") -> Sighting:
    return Sighting(record, point[0], point[1], datetime.now(UTC) - timedelta(hours=1))


def test_an_unknown_type_is_named_in_the_reason() -> None:
    assert unknown_type("'drone_sighting' v1") == "unknown event type 'drone_sighting' v1"


def test_the_township_of_a_code_is_its_first_nine_digits_below_the_county() -> None:
    assert township_of("510822100201001") == "510822100"  # a grid
    assert township_of("510822100201") == "510822100"  # a village
    assert township_of("510822100000") == township_of("510822100") == "510822100"
    assert township_of("510822") is None and township_of("510822000000") is None  # the county
    assert township_of("510800000000") is None


def test_a_person_serves_their_units_township_its_successors_and_their_grids_townships() -> None:
    assert townships_served("510822", [], {}) == frozenset()
    assert townships_served(HOME_GRID, [HOME_GRID], {}) == {HOME}
    # redistricting moved the member's grid into the neighbour township; the person row kept its old unit
    assert townships_served(HOME_GRID, [AWAY_GRID], {}) == {HOME, AWAY}
    merged = successor_map([(f"{HOME}000", f"{AWAY}000"), (f"{AWAY}000", "510822102000"), ("x", "x")])
    assert merged == {f"{HOME}000": (f"{AWAY}000",), f"{AWAY}000": ("510822102000",)}
    assert townships_served(f"{HOME}000", [], merged) == {HOME, AWAY, "510822102"}


def test_an_event_lies_in_its_grids_township_and_the_successors_and_nowhere_outside_every_grid() -> None:
    assert event_places(INDEX, incident(AT_HOME), TODAY) == {HOME}
    assert event_places(INDEX, incident(NOWHERE), TODAY) == frozenset()
    old = grid(HOME_GRID, 105.0, valid_to=date(2026, 1, 1))
    new = grid(f"{AWAY}201009", 105.3, valid_from=date(2026, 1, 1))
    moved = GridIndex([old, new], successors={HOME_GRID: f"{AWAY}201009"})
    last_year = incident(AT_HOME, occurred_at="2025-12-30T08:00:00+08:00", reported_at="2025-12-30T09:00:00+08:00")
    assert event_places(moved, last_year, TODAY) == {HOME, AWAY}


def test_a_township_person_reporting_from_another_township_is_quarantined_naming_both() -> None:
    event = incident(AWAY_POINT)
    reason = foreign_reporter(event, PEOPLE, event_places(INDEX, event, TODAY))
    assert reason is not None
    assert f"{AWAY}000" in reason and f"{HOME}000" in reason and "gm-1" in reason


def test_a_report_from_home_from_above_the_township_or_from_outside_the_registry_passes() -> None:
    for event in (incident(AT_HOME), incident(AWAY_POINT, "sup-510822"), incident(AWAY_POINT, "wl-201001")):
        assert foreign_reporter(event, PEOPLE, event_places(INDEX, event, TODAY)) is None
    nowhere = incident(NOWHERE)
    assert foreign_reporter(nowhere, PEOPLE, event_places(INDEX, nowhere, TODAY)) is None


def test_an_id_already_used_in_another_township_is_forged() -> None:
    event = incident(AWAY_POINT, "citizen-9")
    where = event_places(INDEX, event, TODAY)
    reason = forged_id(event, where, [seen_at(AT_HOME, "case 42")], INDEX, TODAY)
    assert reason is not None
    assert str(event.event_id) in reason and "case 42" in reason
    assert f"{HOME}000" in reason and f"{AWAY}000" in reason


def test_a_redelivery_a_split_republished_or_an_id_reused_in_the_same_township_passes() -> None:
    event = incident(AWAY_POINT, "citizen-9")
    where = event_places(INDEX, event, TODAY)
    assert forged_id(event, where, [], INDEX, TODAY) is None
    assert forged_id(event, where, [seen_at(AWAY_POINT)], INDEX, TODAY) is None
    assert forged_id(event, where, [seen_at((105.19, 32.09))], INDEX, TODAY) is None
    assert forged_id(event, where, [seen_at(NOWHERE)], INDEX, TODAY) is None
    nowhere = incident(NOWHERE, "citizen-9")
    assert forged_id(nowhere, event_places(INDEX, nowhere, TODAY), [seen_at(AT_HOME)], INDEX, TODAY) is None


def test_events_placed_moments_ago_are_remembered_up_to_the_capacity() -> None:
    recent = RecentSightings(capacity=2)
    first, second, third = (incident(AT_HOME) for _ in range(3))
    for event in (first, second, third):
        recent.remember(event)
    assert recent.get(first.event_id) is None
    found = recent.get(third.event_id)
    assert found is not None and (found.lon, found.lat) == AT_HOME
    assert recent.get(uuid.uuid4()) is None


def test_system_processes_pass_and_only_they_may_claim_the_system_role() -> None:
    assert impostor(Actor(id="system:router", role=Role.SYSTEM), None) is None
    reason = impostor(Actor(id="gm-1", role=Role.SYSTEM), MEMBER.as_actor())
    assert reason is not None and "system" in reason


def test_an_administrators_account_is_not_a_registry_person_but_a_person_cannot_claim_to_be_one() -> None:
    assert impostor(Actor(id="admin", role=Role.ADMIN, unit_code="510822"), None) is None
    reason = impostor(Actor(id="gm-1", role=Role.ADMIN), MEMBER.as_actor())
    assert reason is not None and "role admin" in reason


def test_a_person_command_must_match_the_registry() -> None:
    registered = Person("off-1", Role.OFFICER, f"{HOME}000", "enf-1", frozenset({HOME})).as_actor()
    assert impostor(registered, registered) is None
    assert impostor(Actor(id="off-1", role=Role.OFFICER), registered) is None  # claims no unit or team
    for claimed, words in (
        (Actor(id="off-9", role=Role.OFFICER), "not a person serving"),
        (Actor(id="off-1", role=Role.DISPATCHER, unit_code=f"{HOME}000"), "role dispatcher"),
        (Actor(id="off-1", role=Role.OFFICER, unit_code="510822"), "unit 510822"),
        (Actor(id="off-1", role=Role.OFFICER, unit_code=f"{HOME}000", team_id="enf-2"), "team enf-2"),
    ):
        reason = impostor(claimed, None if claimed.id == "off-9" else registered)
        assert reason is not None and words in reason and claimed.id in reason
