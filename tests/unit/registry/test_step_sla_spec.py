"""What a step SLA edit may say: minutes within bounds, a first day neither past nor too far ahead, a reason."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from dispatch.errors import Invalid
from dispatch.registry.step_sla_spec import (
    ACCEPT_MAX_MINUTES,
    VERIFY_MAX_MINUTES,
    StepSlaSpec,
    StepSlaTerms,
    describe,
    end_day,
    first_day,
    in_area,
)

TODAY = date(2026, 12, 1)
GOOD: dict[str, Any] = {"unit_code": "510822100", "accept_minutes": 30, "verify_minutes": 120, "reason": "汛期提速"}


def faults(body: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        StepSlaSpec.model_validate(body)
    return {str(e["loc"][-1]) for e in caught.value.errors()}


def test_a_township_policy_for_one_category_and_priority_is_accepted() -> None:
    spec = StepSlaSpec.model_validate({**GOOD, "category": "flood", "priority": "urgent"})
    assert (spec.category, spec.priority, spec.valid_from) == ("11", "urgent", None)  # a legacy name: its 大类


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"accept_minutes": 0}, "accept_minutes"),
        ({"accept_minutes": -5}, "accept_minutes"),
        ({"accept_minutes": ACCEPT_MAX_MINUTES + 1}, "accept_minutes"),
        ({"verify_minutes": 0}, "verify_minutes"),
        ({"verify_minutes": VERIFY_MAX_MINUTES + 1}, "verify_minutes"),
        ({"verify_minutes": 1.5}, "verify_minutes"),
        ({"unit_code": "510822100001"}, "unit_code"),
        ({"unit_code": "5108"}, "unit_code"),
        ({"category": "weather"}, "category"),
        ({"priority": "very"}, "priority"),
        ({"reason": ""}, "reason"),
        ({"reason": "a\x00b"}, "reason"),
        ({"valid_from": "tomorrow"}, "valid_from"),
        ({"sla_hours": 3}, "sla_hours"),
    ],
)
def test_a_bad_field_is_refused_by_name(change: dict[str, Any], field: str) -> None:
    assert field in faults({**GOOD, **change})


def test_the_bounds_themselves_are_accepted() -> None:
    StepSlaSpec.model_validate({**GOOD, "accept_minutes": 1, "verify_minutes": VERIFY_MAX_MINUTES})
    StepSlaSpec.model_validate({**GOOD, "accept_minutes": ACCEPT_MAX_MINUTES, "verify_minutes": 1})


def test_a_reason_is_required() -> None:
    body = {k: v for k, v in GOOD.items() if k != "reason"}
    assert "reason" in faults(body)
    with pytest.raises(ValidationError):
        StepSlaTerms.model_validate({"accept_minutes": 5, "verify_minutes": 5})


def test_a_policy_starts_today_unless_a_later_day_is_given() -> None:
    assert first_day(None, TODAY) == TODAY
    assert first_day(TODAY + timedelta(days=10), TODAY) == TODAY + timedelta(days=10)


@pytest.mark.parametrize("day", [TODAY - timedelta(days=1), TODAY + timedelta(days=367)])
def test_a_first_day_past_or_too_far_ahead_is_refused_naming_valid_from(day: date) -> None:
    with pytest.raises(Invalid) as caught:
        first_day(day, TODAY)
    assert caught.value.loc == ("body", "valid_from")


def test_an_ended_policy_stops_today_or_never_starts() -> None:
    assert end_day(date(2026, 1, 1), TODAY) == TODAY
    scheduled = TODAY + timedelta(days=30)
    assert end_day(scheduled, TODAY) == scheduled


def test_a_caller_edits_only_units_inside_their_area() -> None:
    assert in_area("510822100", "510822100") and in_area("510822100", "510822") and in_area("510822", "")
    assert not in_area("510822", "510822100")
    assert not in_area("510822101", "510822100")


def test_a_policy_is_described_on_one_line() -> None:
    row = {"id": 7, "unit_code": "510822100", "category": "flood", "priority": None, "accept_minutes": 10}
    row |= {"verify_minutes": 30, "valid_from": date(2026, 12, 1), "valid_to": None, "note": "汛期"}
    line = describe(row)
    assert line.startswith("#7") and "category=flood" in line and "accept 10 min, verify 30 min" in line
    assert "until" not in line and line.endswith("汛期")
