"""People as the registry takes them: which fields each role needs, refused naming the field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from dispatch.people.model import PersonSpec, PostSpec, grid_in_unit, start_day

VILLAGE = "510822100201"
GRID = f"{VILLAGE}001"


def refused(**fields: Any) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        PersonSpec.model_validate(fields)
    return [e["loc"] for e in caught.value.errors()]


def test_a_part_time_grid_member_on_two_grids_is_taken() -> None:
    spec = PersonSpec.model_validate(
        {
            "role": "grid_member",
            "name": "李芳",
            "unit_code": VILLAGE,
            "grids": [GRID, f"{VILLAGE}002"],
            "post": "part_time",
        }
    )
    assert spec.post == "part_time" and spec.person_id().startswith("gm-")


def test_a_grid_member_needs_a_unit_and_a_grid_and_no_team() -> None:
    assert refused(role="grid_member", name="李芳") == [("unit_code",), ("grids",)]
    assert refused(role="grid_member", name="李芳", unit_code=VILLAGE, grids=[GRID], team_id="enf-510822100") == [
        ("team_id",)
    ]
    assert refused(role="grid_member", name="李芳", unit_code=VILLAGE, grids=[GRID, GRID]) == [("grids",)]
    assert refused(role="grid_member", name="李芳", unit_code=VILLAGE, grids=["51082210020100"]) == [("grids", 0)]


def test_team_roles_need_a_team_or_a_township_and_hold_no_grids() -> None:
    assert refused(role="officer", name="张强") == [("team_id",)]
    assert refused(role="officer", name="张强", unit_code="510822100", grids=[GRID]) == [("grids",)]
    assert refused(role="officer", name="张强", unit_code="510822100", post="full_time") == [("post",)]
    assert refused(role="officer", name="张强", unit_code="510822100", agency_type="police") == [("agency_type",)]
    assert refused(role="agency_staff", name="王敏", unit_code="510822100") == [("agency_type",)]
    officer = PersonSpec.model_validate({"role": "officer", "name": "张强", "unit_code": "510822100"})
    assert officer.person_id().startswith("off-")
    reviewer = PersonSpec.model_validate({"role": "legal_reviewer", "name": "赵静", "team_id": "enf-510822100"})
    assert reviewer.person_id().startswith("legal-")
    staff = PersonSpec.model_validate({"role": "agency_staff", "name": "王敏", "team_id": "police-510822100"})
    assert staff.agency_type is None


def test_unknown_fields_and_roles_are_refused_by_name() -> None:
    assert refused(role="officer", name="张强", unit_code="510822100", rank="captain") == [("rank",)]
    assert refused(role="mayor", name="张强", unit_code="510822100") == [("role",)]
    with pytest.raises(ValidationError) as caught:
        PostSpec.model_validate({"grid_code": GRID, "post": "sometimes"})
    assert [e["loc"] for e in caught.value.errors()] == [("post",)]


def test_a_grid_lies_in_its_village_its_township_or_is_the_unit_itself() -> None:
    assert grid_in_unit(VILLAGE, GRID, VILLAGE, "510822100")
    assert grid_in_unit("510822100", GRID, VILLAGE, "510822100")
    assert grid_in_unit(GRID, GRID, VILLAGE, "510822100")
    assert not grid_in_unit("510822100202", GRID, VILLAGE, "510822100")


def test_service_starts_today_or_later_never_in_the_past() -> None:
    today = date(2026, 11, 21)
    assert start_day(None, today) == today
    assert start_day(date(2026, 12, 1), today) == date(2026, 12, 1)
    with pytest.raises(ValueError, match="in the past"):
        start_day(date(2026, 11, 20), today)
