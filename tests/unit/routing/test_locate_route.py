"""Locating a point in its grid and routing it with rules stored as data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.cases import OpenCase, case_id_for_event
from core.events import EVENT_ADAPTER
from core.queues import UnroutedEvent
from core.vocabulary import PartyKind, Severity
from dispatch.routing.decision import PatrolEntry, decide
from dispatch.routing.locate import GridIndex
from dispatch.routing.rules import RuleBook
from tests.unit.factories import COUNTY, DEFAULT_RULES, TOWN, VILLAGE, event_body, grid, rule, snapshot

TODAY = date(2026, 11, 21)
NOW = datetime.now(UTC)


def test_a_point_is_found_in_the_grid_that_contains_it() -> None:
    index = GridIndex([grid(f"{VILLAGE}001", 105.0), grid(f"{VILLAGE}002", 105.1)])
    found = index.locate(105.15, 32.05, TODAY)
    assert found is not None and found.code == f"{VILLAGE}002"
    assert index.locate(104.5, 32.05, TODAY) is None


def test_a_point_on_a_shared_edge_goes_to_exactly_one_grid() -> None:
    index = GridIndex([grid(f"{VILLAGE}002", 105.1), grid(f"{VILLAGE}001", 105.0)])
    found = index.locate(105.1, 32.05, TODAY)
    assert found is not None and found.code == f"{VILLAGE}001"


def test_the_grid_version_valid_on_the_day_is_used() -> None:
    old = grid(f"{VILLAGE}001", 105.0, valid_from=date(2010, 1, 1), valid_to=date(2020, 1, 1))
    new = grid("510822101201001", 105.0, valid_from=date(2020, 1, 1))
    index = GridIndex([old, new])
    before = index.locate(105.05, 32.05, date(2019, 6, 1))
    after = index.locate(105.05, 32.05, date(2020, 6, 1))
    assert before is not None and before.code == f"{VILLAGE}001"
    assert after is not None and after.code == "510822101201001"


def decide_body(**overrides: object) -> OpenCase | UnroutedEvent | PatrolEntry:
    return decide(EVENT_ADAPTER.validate_python(event_body(**overrides)), snapshot(), NOW)


def test_an_ordinary_incident_goes_to_the_grids_own_member_with_its_sla() -> None:
    body = event_body()
    result = decide(EVENT_ADAPTER.validate_python(body), snapshot(), NOW)
    assert isinstance(result, OpenCase)
    assert result.assignee.kind is PartyKind.GRID_MEMBER and result.assignee.name == "王伟"
    assert result.grid_code == f"{VILLAGE}001" and result.township_code == TOWN
    assert result.case_id == case_id_for_event(result.source.event_id)
    assert result.due_at == result.source.reported_at + timedelta(hours=48)


def test_an_enforcement_lead_reaches_the_townships_enforcement_team() -> None:
    result = decide_body(type="enforcement_lead", category="illegal_construction")
    assert isinstance(result, OpenCase)
    assert result.assignee.kind is PartyKind.ENFORCEMENT and result.assignee.id == "enf-1"
    assert result.priority is Severity.HIGH


def test_a_market_issue_goes_to_the_stationed_agency() -> None:
    result = decide_body(category="market")
    assert isinstance(result, OpenCase) and result.assignee.id == "market-1"


def test_severity_thresholds_select_the_rule() -> None:
    minor = decide_body(category="fire", severity="normal")
    major = decide_body(category="fire", severity="urgent")
    assert isinstance(minor, OpenCase) and minor.assignee.kind is PartyKind.GRID_MEMBER
    assert isinstance(major, OpenCase) and major.assignee.kind is PartyKind.ENFORCEMENT


def test_a_township_rule_overrides_the_county_default() -> None:
    rules = [*DEFAULT_RULES, rule(9, 5, PartyKind.ENFORCEMENT, unit=TOWN, category="01")]
    result = decide(EVENT_ADAPTER.validate_python(event_body()), snapshot(rules), NOW)
    assert isinstance(result, OpenCase) and result.rule_id == 9 and result.assignee.kind is PartyKind.ENFORCEMENT


def test_a_vacant_grid_falls_back_to_the_village_duty_post() -> None:
    result = decide(EVENT_ADAPTER.validate_python(event_body()), snapshot(with_member=False), NOW)
    assert isinstance(result, OpenCase) and result.assignee.id == "duty-v"
    assert result.assignee.fallback is not None and "village duty post" in result.assignee.fallback


def test_a_point_outside_every_grid_is_queued_for_a_person() -> None:
    result = decide_body(location={"lon": 110.0, "lat": 30.0})
    assert isinstance(result, UnroutedEvent) and result.reason == "outside every grid"


def test_no_matching_rule_is_queued_for_a_person_with_the_reason() -> None:
    only_market = [rule(2, 20, PartyKind.AGENCY, category="09", agency_type="market")]
    result = decide(EVENT_ADAPTER.validate_python(event_body()), snapshot(only_market), NOW)
    assert isinstance(result, UnroutedEvent) and "no routing rule" in result.reason


def test_a_patrol_that_found_nothing_is_logged_not_opened() -> None:
    result = decide_body(type="patrol", found_nothing=True, description="")
    assert isinstance(result, PatrolEntry) and result.grid_code == f"{VILLAGE}001"


def test_rules_are_searched_in_written_order_within_a_unit() -> None:
    book = RuleBook([rule(2, 20, PartyKind.AGENCY, agency_type="x"), rule(1, 10, PartyKind.GRID_MEMBER)])
    found = book.first_match([COUNTY], "incident", "1499", Severity.NORMAL, TODAY)
    assert found is not None and found.id == 1
