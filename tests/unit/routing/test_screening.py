"""Screening rules, without I/O: quarantined events, duplicate events attached to open cases, untrusted actors."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.cases import Actor, AttachEvent, OpenCase
from core.events import EVENT_ADAPTER, EventEnvelope
from core.vocabulary import Role
from dispatch.clock import local_day
from dispatch.routing.decision import decide
from dispatch.routing.duplicates import DuplicatePolicy, Opened, RecentOpens
from dispatch.routing.locate import GridIndex
from dispatch.routing.model import Person
from dispatch.routing.placement import Placed, place, settle
from dispatch.routing.quarantine import RecentSightings, Sighting
from dispatch.routing.rules import RuleBook
from dispatch.routing.screening import actor_reason, duplicate_decision
from dispatch.routing.snapshot import RoutingSnapshot
from tests.unit.factories import DEFAULT_RULES, TOWN, directory, event_body, grid

NOW = datetime.now(UTC)
TODAY = local_day(NOW)
HOME, AWAY = TOWN, "510822101"
HOME_GRID, AWAY_GRID = f"{HOME}201001", f"{AWAY}201001"
AT_HOME, NEXT_DOOR, AWAY_POINT, NOWHERE = (105.05, 32.05), (105.0501, 32.05), (105.15, 32.05), (104.5, 32.05)
MEMBER = Person("gm-1", Role.GRID_MEMBER, HOME_GRID, None, frozenset({HOME}))
OFFICER = Person("off-1", Role.OFFICER, f"{HOME}000", "enf-1", frozenset({HOME}))
SNAP = RoutingSnapshot(
    GridIndex([grid(HOME_GRID, 105.0), grid(AWAY_GRID, 105.1)]),
    RuleBook(DEFAULT_RULES),
    replace(directory(), people={p.id: p for p in (MEMBER, OFFICER)}),
)
POLICY = DuplicatePolicy(radius_m=50, window=timedelta(hours=2))


def incident(point: tuple[float, float], reporter: str = "citizen-9", **fields: Any) -> EventEnvelope:
    lon, lat = point
    body = event_body(location={"lon": lon, "lat": lat}, reporter={"id": reporter}, **fields)
    event: EventEnvelope = EVENT_ADAPTER.validate_python(body)
    return event


def seen_at(point: tuple[float, float], record: str = "case 42") -> Sighting:
    return Sighting(record, point[0], point[1], NOW - timedelta(hours=1))


def opening(point: tuple[float, float], category: str = "environment") -> tuple[OpenCase, dict[str, Any]]:
    """The command routing issues for a new incident at the point, and the event as reported."""
    event = incident(point, category=category)
    command = decide(event, SNAP, NOW)
    assert isinstance(command, OpenCase)
    return command, event.model_dump(mode="json")


def placed(event: EventEnvelope) -> Placed:
    """The event located, with the townships it lies in and its reporter judged."""
    (found,) = place([event], SNAP, TODAY)
    return found


def suspicious_reason(event: EventEnvelope, seen: list[Sighting]) -> str | None:
    """Why the event is quarantined when these events are on record under its id; None when it is routed."""
    (settled,) = settle([placed(event)], SNAP, NOW, {event.event_id: seen}, RecentSightings())
    return settled.quarantined


def remembered_case(command: OpenCase, recent: RecentOpens) -> uuid.UUID | None:
    src = command.source
    return recent.near(src.category, src.location.lon, src.location.lat, command.issued_at)


def memory_of(*commands: OpenCase) -> RecentOpens:
    recent = RecentOpens(POLICY)
    for c in commands:
        recent.remember(Opened(c.case_id, c.source.category, c.source.location.lon, c.source.location.lat, NOW))
    return recent


def test_a_reporter_of_another_township_is_quarantined_naming_both_without_asking_for_the_id() -> None:
    event = incident(AWAY_POINT, reporter="gm-1")
    assert not placed(event).needs_sightings
    reason = suspicious_reason(event, [])
    assert reason is not None
    assert "gm-1" in reason and f"{AWAY}000" in reason and f"{HOME}000" in reason


def test_a_forged_event_id_seen_in_another_township_is_refused() -> None:
    event = incident(AWAY_POINT)
    assert placed(event).needs_sightings
    reason = suspicious_reason(event, [seen_at(AT_HOME)])
    assert reason is not None
    assert "forged event id" in reason and str(event.event_id) in reason and "case 42" in reason


def test_a_new_event_a_redelivery_and_a_report_from_home_are_routed() -> None:
    event = incident(AWAY_POINT)
    assert suspicious_reason(event, []) is None
    assert suspicious_reason(event, [seen_at(AWAY_POINT)]) is None
    home = incident(AT_HOME, reporter="gm-1")
    assert placed(home).needs_sightings
    assert suspicious_reason(home, []) is None


def test_an_event_outside_every_grid_is_left_to_the_unrouted_queue_without_asking_for_the_id() -> None:
    event = incident(NOWHERE, reporter="gm-1")
    assert not placed(event).needs_sightings
    assert suspicious_reason(event, [seen_at(AT_HOME)]) is None


def test_a_near_recent_open_case_of_the_same_category_takes_the_event_instead_of_a_new_case() -> None:
    first, _ = opening(AT_HOME)
    second, raw = opening(NEXT_DOOR)
    found = remembered_case(second, memory_of(first))
    assert found == first.case_id
    attached = duplicate_decision(second, raw, POLICY, found)
    assert isinstance(attached, AttachEvent)
    assert attached.case_id == first.case_id and attached.command_id == second.command_id
    assert attached.source == second.source and attached.event == raw


def test_a_stored_open_case_takes_the_event_when_this_worker_does_not_remember_one() -> None:
    second, raw = opening(NEXT_DOOR)
    stored = uuid.uuid4()
    attached = duplicate_decision(second, raw, POLICY, remembered_case(second, memory_of()), stored)
    assert isinstance(attached, AttachEvent) and attached.case_id == stored


def test_an_event_split_off_a_case_is_not_attached_again() -> None:
    first, _ = opening(AT_HOME)
    second, raw = opening(NEXT_DOOR)
    found = remembered_case(second, memory_of(first))
    assert duplicate_decision(second, raw, POLICY, found, split=True) is second
    assert duplicate_decision(second, raw, POLICY, None, first.case_id, split=True) is second


def test_another_category_or_a_point_outside_the_radius_opens_a_case() -> None:
    first, _ = opening(AT_HOME)
    recent = memory_of(first)
    for command, raw in (opening(NEXT_DOOR, "road"), opening((105.06, 32.05))):
        assert remembered_case(command, recent) is None
        assert duplicate_decision(command, raw, POLICY, None) is command


def test_a_redelivered_event_finding_its_own_case_opens_it_again_and_no_radius_means_no_duplicates() -> None:
    first, raw = opening(AT_HOME)
    assert duplicate_decision(first, raw, POLICY, first.case_id) is first
    off = DuplicatePolicy(radius_m=0, window=POLICY.window)
    second, raw = opening(NEXT_DOOR)
    assert duplicate_decision(second, raw, off, None, first.case_id) is second


def test_an_actor_claiming_the_admin_role_without_an_administrator_account_is_refused() -> None:
    claimed = Actor(id="mallory", role=Role.ADMIN)
    reason = actor_reason(claimed, None, admin_account=False)
    assert reason is not None and "mallory" in reason and "admin" in reason
    assert actor_reason(claimed, None, admin_account=True) is None


def test_system_processes_pass_and_nobody_else_may_claim_the_system_role() -> None:
    assert actor_reason(Actor(id="system:router", role=Role.SYSTEM), None) is None
    reason = actor_reason(Actor(id="gm-1", role=Role.SYSTEM), MEMBER.as_actor())
    assert reason is not None and "system" in reason and "gm-1" in reason


def test_a_person_acts_only_as_the_registry_has_them() -> None:
    registered = OFFICER.as_actor()
    assert actor_reason(registered, registered) is None
    assert actor_reason(Actor(id="off-1", role=Role.OFFICER), registered) is None
    posing = actor_reason(Actor(id="off-1", role=Role.ADMIN), registered)
    assert posing is not None and "role admin" in posing
    other_team = actor_reason(Actor(id="off-1", role=Role.OFFICER, team_id="enf-2"), registered)
    assert other_team is not None and "team enf-2" in other_team
    gone = actor_reason(Actor(id="off-9", role=Role.OFFICER), None)
    assert gone is not None and "not a person serving" in gone


def test_an_id_placed_moments_ago_in_another_township_is_caught_before_the_database_has_it() -> None:
    first, forged = incident(AT_HOME), incident(AWAY_POINT)
    forged = forged.model_copy(update={"event_id": first.event_id})
    recent = RecentSightings()
    ok, caught = settle(place([first, forged], SNAP, TODAY), SNAP, NOW, {}, recent)
    assert ok.quarantined is None and isinstance(ok.decision, OpenCase)
    assert caught.quarantined is not None and "forged event id" in caught.quarantined


def test_a_batch_is_located_once_per_event_in_order() -> None:
    events = [incident(AT_HOME), incident(NOWHERE), incident(AWAY_POINT)]
    grids = [p.grid.code if p.grid else None for p in place(events, SNAP, TODAY)]
    assert grids == [HOME_GRID, None, AWAY_GRID]
