"""What a plan reports is what it writes: a one-village rename is one unit; a stale plan is validated against the
registry the plans before it made; a transfer names its own county's plan."""

from __future__ import annotations

import uuid
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import dispatch
from core.plans import RedistrictingPlan
from dispatch.geometry.synthetic import generate_county, load_county_outline, read_divisions
from dispatch.redistricting.model import Grid, Unit
from dispatch.redistricting.transfers import OpenCaseRef, PlanInEffect, plan_of
from dispatch.redistricting.validate import apply_plan

DATA = Path(dispatch.__file__).parent / "data" / "guangyuan"
COUNTY = "510822"  # 青川县, generated from its real 2019 list
TOWN = "510822100"


@cache
def county() -> tuple[Any, dict[str, Unit], dict[str, Grid]]:
    """The generated county as the plan sees it."""
    outline = load_county_outline(DATA / "counties.geojson", COUNTY)
    made = generate_county(outline, read_divisions(DATA / "divisions-2019.csv"), COUNTY, seed=2020)
    units = {
        u.code: Unit(u.code, u.name, u.level, u.parent_code, u.polygon, u.statistical_only)
        for u in made
        if u.level in ("township", "village")
    }
    grids = {
        u.code: Grid(u.code, u.name, u.parent_code, u.polygon, u.kind, u.households, u.population)
        for u in made
        if u.level == "grid"
    }
    return outline, units, grids


def plan(plan_id: str, *items: dict[str, Any]) -> RedistrictingPlan:
    return RedistrictingPlan.model_validate(
        {
            "plan_id": plan_id,
            "county": COUNTY,
            "effective_date": "2026-12-01",
            "legal_basis": "测试〔2026〕2号",
            "items": list(items),
        }
    )


def villages_of(units: dict[str, Unit], township: str) -> list[str]:
    return sorted(c for c, u in units.items() if u.level == "village" and u.parent == township)


def test_a_one_village_rename_changes_one_unit_and_no_grid() -> None:
    outline, units, grids = county()
    village = villages_of(units, TOWN)[0]
    out = apply_plan(plan("rename-one", {"op": "rename", "code": village, "name": "新名村"}), outline, units, grids)
    assert out.errors == []
    assert out.changed_units == {village}
    assert out.rows.units_ended == (village,) and [u.name for u in out.rows.units_started] == ["新名村"]
    assert out.rows.grids_ended == () and out.rows.grids_started == ()


def test_a_merge_inside_one_township_changes_the_two_villages_not_the_townships() -> None:
    outline, units, grids = county()
    keep, gone = villages_of(units, TOWN)[:2]
    out = apply_plan(plan("merge-two", {"op": "merge", "sources": [gone], "into": keep}), outline, units, grids)
    assert out.errors == []
    assert out.changed_units == {keep, gone}
    moved = sorted(c for c in grids if c[:12] == gone)
    assert out.rows.grids_ended == tuple(moved) and len(out.rows.grids_started) == len(moved)


def test_a_stale_second_plan_renaming_a_village_the_first_abolished_is_refused() -> None:
    outline, units, grids = county()
    keep, gone = villages_of(units, TOWN)[:2]
    first = apply_plan(plan("merge-first", {"op": "merge", "sources": [gone], "into": keep}), outline, units, grids)
    stale = plan("rename-stale", {"op": "rename", "code": gone, "name": "复活村"})
    assert apply_plan(stale, outline, units, grids).errors == []  # against the registry before the first: "valid"
    stacked = apply_plan(stale, outline, first.rows.units_after(units), first.rows.grids_after(grids))
    assert stacked.errors == [
        f"item 1 (rename): unit {gone} does not exist (or was already abolished by an earlier item)"
    ]
    ended = {gone: f"merged_into {keep} by plan merge-first on 2026-12-01"}
    named = apply_plan(stale, outline, first.rows.units_after(units), first.rows.grids_after(grids), gone=ended)
    assert named.errors == [f"item 1 (rename): unit {gone} no longer exists on the plan's date: {ended[gone]}"]


def test_a_transfer_names_the_plan_that_ended_its_grid_else_its_own_countys_plan_of_that_day() -> None:
    day = date(2019, 12, 31)
    plans = [PlanInEffect("qingchuan-2019", "510822", True, day), PlanInEffect("cangxi-2020", "510824", False, day)]
    case = OpenCaseRef(uuid.uuid4(), "510822100201001", "510822100", "grid_member", "gm-1", None, ended_on=day)
    assert plan_of(case, plans) == "qingchuan-2019"
    assert plan_of(OpenCaseRef(**{**case.__dict__, "plan_id": "village-fix"}), plans) == "village-fix"
    elsewhere = OpenCaseRef(**{**case.__dict__, "grid_code": "510821100201001", "township_code": "510821100"})
    assert plan_of(elsewhere, plans) is None
    imported = OpenCaseRef(**{**case.__dict__, "ended_on": date(2026, 12, 1)})
    assert plan_of(imported, plans) is None, "grids redrawn on a day no plan took effect: no plan is named"
    unknown = OpenCaseRef(**{**case.__dict__, "ended_on": None})
    assert plan_of(unknown, plans) == "qingchuan-2019"
