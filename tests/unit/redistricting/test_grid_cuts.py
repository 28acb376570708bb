"""Cutting grids keeps every piece: a split or a transfer of part leaves no area without a grid row, and a case of
a cut grid goes to the piece it lies in."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import shapely
from shapely.geometry import mapping

from core.plans import RedistrictingPlan
from dispatch.redistricting.model import Grid, Unit
from dispatch.redistricting.registry_check import county_errors
from dispatch.redistricting.transfers import OpenCaseRef, transfer_for
from dispatch.redistricting.validate import Outcome, apply_plan
from dispatch.routing.locate import GridIndex
from dispatch.routing.rules import RuleBook
from dispatch.routing.snapshot import RoutingSnapshot
from tests.unit.factories import DEFAULT_RULES, VILLAGE, directory, grid
from tests.unit.factories import TOWN as TOWN_CODE

COUNTY = "510822"
TOWN = "510822100"
V1, V2 = f"{TOWN}201", f"{TOWN}202"
OUTLINE = shapely.box(0, 0, 3, 1)


def registry() -> tuple[dict[str, Unit], dict[str, Grid]]:
    """One township of two villages: V1 (two grids side by side) and V2 (one grid)."""
    units = {
        TOWN: Unit(TOWN, "乔庄镇", "township", COUNTY, OUTLINE),
        V1: Unit(V1, "东村", "village", TOWN, shapely.box(0, 0, 2, 1)),
        V2: Unit(V2, "西村", "village", TOWN, shapely.box(2, 0, 3, 1)),
    }
    grids = {
        f"{V1}001": Grid(f"{V1}001", "东村第1网格", V1, shapely.box(0, 0, 1, 1), "rural", 100, 300),
        f"{V1}002": Grid(f"{V1}002", "东村第2网格", V1, shapely.box(1, 0, 2, 1), "rural", 101, 301),
        f"{V2}001": Grid(f"{V2}001", "西村第1网格", V2, shapely.box(2, 0, 3, 1), "rural", 50, 150),
    }
    return units, grids


def plan(*items: dict[str, Any]) -> RedistrictingPlan:
    """A plan of the test county."""
    return RedistrictingPlan.model_validate(
        {
            "plan_id": "cut-test",
            "county": COUNTY,
            "effective_date": "2026-12-01",
            "legal_basis": "测试〔2026〕1号",
            "items": list(items),
        }
    )


def applied(*items: dict[str, Any], taken: tuple[str, ...] = ()) -> tuple[Outcome, dict[str, Grid]]:
    """The outcome of the items on the test registry (with no error), and the grids its rows make."""
    units, grids = registry()
    out = apply_plan(plan(*items), OUTLINE, units, grids, taken)
    assert out.errors == []
    after_units, after_grids = out.rows.units_after(units), out.rows.grids_after(grids)
    assert county_errors(COUNTY, OUTLINE, after_units, after_grids) == []
    return out, after_grids


def test_a_grid_cut_into_three_pieces_keeps_every_piece_as_a_grid_row() -> None:
    a, b, c = f"{TOWN}203", f"{TOWN}204", f"{TOWN}205"
    parts = [
        {"code": a, "name": "甲村", "area": mapping(shapely.box(0, 0, 1.2, 1))},
        {"code": b, "name": "乙村", "area": mapping(shapely.box(1.2, 0, 1.7, 1))},
        {"code": c, "name": "丙村", "area": mapping(shapely.box(1.7, 0, 2, 1))},
    ]
    out, after = applied({"op": "split", "code": V1, "parts": parts})
    cut = f"{V1}002"
    assert out.rows.grids_ended == (f"{V1}001", cut)
    assert sorted(g.code for g in out.rows.grids_started) == [f"{a}001", f"{a}002", f"{b}001", f"{c}001"]
    assert sorted((e.to_code, e.kind) for e in out.lineage if e.from_code == cut) == [
        (f"{a}002", "split_into"),
        (f"{b}001", "split_into"),
        (f"{c}001", "split_into"),
    ]
    assert [(e.to_code, e.kind) for e in out.lineage if e.from_code == f"{V1}001"] == [(f"{a}001", "recoded_to")]
    pieces = [after[f"{a}002"], after[f"{b}001"], after[f"{c}001"]]
    assert [round(p.geom.area, 9) for p in pieces] == [0.2, 0.5, 0.3]
    assert shapely.union_all([p.geom for p in pieces]).equals(shapely.box(1, 0, 2, 1))
    assert sum(p.households for p in pieces) == 101 and sum(p.population for p in pieces) == 301
    assert {p.village for p in pieces} == {a, b, c} and after[f"{b}001"].name == "乙村第1网格"
    assert out.post_moves() == {f"{V1}001": f"{a}001", cut: f"{b}001"}  # the member goes to the largest piece


def test_a_transfer_of_part_keeps_the_remainder_under_its_code_and_gives_the_piece_a_new_one() -> None:
    area = shapely.box(1.5, 0, 2, 0.5)
    out, after = applied(
        {"op": "transfer_part", "source": V1, "target": V2, "area": mapping(area)},
        taken=(f"{V2}002",),  # a code the village used before: never given again
    )
    cut = f"{V1}002"
    assert out.rows.grids_ended == (cut,)
    assert sorted(g.code for g in out.rows.grids_started) == [cut, f"{V2}003"]
    assert after[cut].geom.equals(shapely.box(1, 0, 2, 1).difference(area)) and after[cut].village == V1
    assert after[f"{V2}003"].geom.equals(area) and after[f"{V2}003"].village == V2
    assert after[cut].households + after[f"{V2}003"].households == 101
    assert sorted((e.to_code, e.kind) for e in out.lineage if e.level == "grid") == [
        (cut, "split_into"),
        (f"{V2}003", "split_into"),
    ]
    assert out.post_moves() == {}  # the remainder keeps its code and its member
    assert out.changed_units == {V1, V2}  # the township's outline did not change: no new row for it


def test_a_grid_wholly_inside_the_moved_area_is_recoded_not_split() -> None:
    out, after = applied({"op": "transfer_part", "source": V1, "target": V2, "area": mapping(shapely.box(1, 0, 2, 1))})
    assert out.rows.grids_ended == (f"{V1}002",)
    assert [(e.from_code, e.to_code, e.kind) for e in out.lineage if e.level == "grid"] == [
        (f"{V1}002", f"{V2}002", "recoded_to")
    ]
    assert after[f"{V2}002"].households == 101


def test_a_case_of_a_cut_grid_goes_to_the_piece_its_location_lies_in() -> None:
    old = f"{VILLAGE}003"
    day, cut_on = date(2026, 12, 2), date(2026, 12, 1)
    pieces = [grid(f"{VILLAGE}001", 105.0, cut_on), grid(f"{VILLAGE}002", 105.1, cut_on)]
    index = GridIndex([grid(old, 105.0, valid_to=cut_on), *pieces], successors={old: f"{VILLAGE}002"})
    snap = RoutingSnapshot(index, RuleBook(DEFAULT_RULES), directory())
    case = OpenCaseRef(uuid.uuid4(), old, TOWN_CODE, "grid_member", "gm-0", None, "cut-plan")
    west = OpenCaseRef(**{**case.__dict__, "pieces": tuple(p.code for p, _ in pieces), "location": (105.05, 32.05)})
    now = datetime(2026, 12, 2, 1, tzinfo=UTC)
    assert transfer_for(west, snap, day, now, "cut-plan").grid_code == f"{VILLAGE}001"
    assert transfer_for(case, snap, day, now, "cut-plan").grid_code == f"{VILLAGE}002"  # no location: by lineage


def test_a_case_of_a_grid_redrawn_by_an_import_goes_to_the_grid_its_location_lies_in() -> None:
    old, day = f"{VILLAGE}003", date(2026, 12, 1)
    index = GridIndex([grid(old, 105.0, valid_to=day), grid(f"{VILLAGE}901", 105.0, day), grid(f"{VILLAGE}001", 105.1)])
    snap = RoutingSnapshot(index, RuleBook(DEFAULT_RULES), directory())
    case = OpenCaseRef(uuid.uuid4(), old, TOWN_CODE, "grid_member", "gm-0", None, location=(105.05, 32.05))
    moved = transfer_for(case, snap, day, datetime(2026, 12, 1, 1, tzinfo=UTC), None)
    assert (moved.grid_code, moved.plan_id) == (f"{VILLAGE}901", None)
    assert moved.reason == f"网格调整: {old} → {VILLAGE}901"
    assert moved.assignee.id == "duty-v", "a vacant new grid's case goes to the village's duty post"
    again = transfer_for(case, snap, day, datetime(2026, 12, 1, 2, tzinfo=UTC), None)
    assert again.command_id == moved.command_id, "the next round sends the same command (applied once)"


def test_members_follow_a_grid_moved_then_cut_by_a_later_item_of_the_same_plan() -> None:
    out, after = applied(
        {"op": "transfer_part", "source": V1, "target": V2, "area": mapping(shapely.box(1, 0, 2, 1))},
        {"op": "transfer_part", "source": V2, "target": V1, "area": mapping(shapely.box(1.5, 0, 2, 1))},
    )
    assert sorted(g.code for g in out.rows.grids_started) == [f"{V1}003", f"{V2}002"]
    assert after[f"{V2}002"].geom.equals(shapely.box(1, 0, 1.5, 1))
    assert out.post_moves() == {f"{V1}002": f"{V2}002"}
