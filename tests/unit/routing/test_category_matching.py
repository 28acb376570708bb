"""Rules and step SLAs naming a 大类 apply to all its 小类; the more specific wins; legacy values route as before."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.cases import OpenCase, StepSla
from core.categories import CategoryEntry, CategoryTable
from core.events import EVENT_ADAPTER
from core.queues import UnroutedEvent
from core.vocabulary import PartyKind, Severity
from dispatch.routing.decision import decide
from dispatch.routing.rules import RuleBook
from dispatch.routing.snapshot import RoutingSnapshot
from dispatch.routing.step_sla import DEFAULT_STEP_SLA, StepSlaBook, StepSlaPolicy
from tests.unit.factories import COUNTY, DEFAULT_RULES, TOWN, event_body, rule, snapshot

TODAY = date(2026, 11, 21)
NOW = datetime.now(UTC)
MARKET_RULES = [
    rule(10, 10, PartyKind.AGENCY, category="09", agency_type="market"),
    rule(11, 20, PartyKind.ENFORCEMENT, category="0901"),
    rule(12, 1000, PartyKind.GRID_MEMBER),
]


def routed(body: dict[str, object], rules: list | None = None) -> OpenCase:  # type: ignore[type-arg]
    found = decide(EVENT_ADAPTER.validate_python(body), snapshot(rules), NOW)
    assert isinstance(found, OpenCase), found
    return found


@pytest.mark.parametrize("category", ["market", "09", "0902", "0999"])
def test_a_rule_naming_a_major_routes_a_legacy_value_and_every_minor_of_it(category: str) -> None:
    case = routed(event_body(category=category), MARKET_RULES)
    assert case.assignee.kind is PartyKind.AGENCY and case.rule_id == 10
    assert case.source.category.startswith("09") and len(case.source.category) == 4


def test_a_rule_naming_the_minor_wins_over_the_majors_rule_written_before_it() -> None:
    case = routed(event_body(category="0901"), MARKET_RULES)
    assert case.rule_id == 11 and case.assignee.kind is PartyKind.ENFORCEMENT


def test_a_major_rule_wins_over_a_catch_all_written_before_it_and_other_majors_fall_through() -> None:
    rules = [rule(1, 1, PartyKind.GRID_MEMBER), rule(2, 50, PartyKind.AGENCY, category="09", agency_type="market")]
    assert routed(event_body(category="0903"), rules).rule_id == 2
    assert routed(event_body(category="0102"), rules).rule_id == 1


def test_among_equally_specific_rules_the_first_written_wins() -> None:
    book = RuleBook(
        [rule(2, 20, PartyKind.ENFORCEMENT, category="09"), rule(1, 10, PartyKind.GRID_MEMBER, category="09")]
    )
    found = book.first_match([COUNTY], "incident", "0901", Severity.NORMAL, TODAY)
    assert found is not None and found.id == 1


def test_a_township_rule_still_comes_before_a_more_specific_county_rule() -> None:
    book = RuleBook(
        [rule(1, 10, PartyKind.ENFORCEMENT, category="0901"), rule(2, 10, PartyKind.GRID_MEMBER, unit=TOWN)]
    )
    found = book.first_match([TOWN, COUNTY], "incident", "0901", Severity.NORMAL, TODAY)
    assert found is not None and found.id == 2


def test_the_default_rules_keep_sending_legacy_market_and_fire_events_where_they_went() -> None:
    assert routed(event_body(category="market"), DEFAULT_RULES).assignee.id == "market-1"
    fire = routed(event_body(category="fire", severity="high"), DEFAULT_RULES)
    assert fire.assignee.id == "enf-1" and fire.source.category == "1299"


def test_a_step_sla_for_a_minor_beats_one_for_its_major_which_beats_a_priority_only_one() -> None:
    book = StepSlaBook(
        [
            StepSlaPolicy(COUNTY, 60, 240),
            StepSlaPolicy(COUNTY, 30, 120, priority="urgent"),
            StepSlaPolicy(COUNTY, 20, 90, category="12"),
            StepSlaPolicy(COUNTY, 15, 60, category="12", priority="urgent"),
            StepSlaPolicy(COUNTY, 5, 15, category="1201"),
        ]
    )
    at = [TOWN, COUNTY]
    assert book.for_case(at, "1201", "normal", TODAY) == StepSla(accept_minutes=5, verify_minutes=15)
    assert book.for_case(at, "1201", "urgent", TODAY) == StepSla(accept_minutes=5, verify_minutes=15)
    assert book.for_case(at, "1202", "normal", TODAY) == StepSla(accept_minutes=20, verify_minutes=90)
    assert book.for_case(at, "1202", "urgent", TODAY) == StepSla(accept_minutes=15, verify_minutes=60)
    assert book.for_case(at, "0102", "urgent", TODAY) == StepSla(accept_minutes=30, verify_minutes=120)
    assert StepSlaBook().for_case(at, "0102", "normal", TODAY) == DEFAULT_STEP_SLA


def test_an_event_naming_a_category_the_loaded_table_lacks_goes_to_a_person() -> None:
    base = snapshot(MARKET_RULES)
    table = CategoryTable([CategoryEntry("09", "市场监管", "Market"), CategoryEntry("0999", "其他", "Other")])
    snap = RoutingSnapshot(base.index, base.book, base.directory, categories=table)
    unknown = decide(EVENT_ADAPTER.validate_python(event_body(category="0901")), snap, NOW)
    assert isinstance(unknown, UnroutedEvent) and "0901" in unknown.reason
    assert isinstance(decide(EVENT_ADAPTER.validate_python(event_body(category="market")), snap, NOW), OpenCase)
