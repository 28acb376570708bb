"""The operations reforms are made of: a township created from villages and a drawn area of townships that
continue, a village created from drawn areas, a township divided among three successors, a village moved to
another township, a drawn area moved across townships. Each checks exactly the rows it writes, and they tile."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from shapely.geometry import mapping

from core.plans import RedistrictingPlan
from dispatch.redistricting.model import Grid, Lineage, Unit
from dispatch.redistricting.registry_check import county_errors
from dispatch.redistricting.validate import Outcome, apply_plan

COUNTY = "510822"
A, B, C = "510822100", "510822101", "510822102"
NEW_TOWN = "510822103"
OUTLINE = shapely.box(0, 0, 3, 2)


def _village(code: str, name: str, geom: shapely.Polygon) -> Unit:
    return Unit(code, name, "village", code[:9], geom)


def registry() -> tuple[dict[str, Unit], dict[str, Grid]]:
    """Three townships side by side: A and B of two villages (upper and lower), C of three bands."""
    units = {
        A: Unit(A, "甲镇", "township", COUNTY, shapely.box(0, 0, 1, 2)),
        B: Unit(B, "乙镇", "township", COUNTY, shapely.box(1, 0, 2, 2)),
        C: Unit(C, "丙乡", "township", COUNTY, shapely.box(2, 0, 3, 2)),
        f"{A}201": _village(f"{A}201", "甲一村", shapely.box(0, 0, 1, 1)),
        f"{A}202": _village(f"{A}202", "甲二村", shapely.box(0, 1, 1, 2)),
        f"{B}201": _village(f"{B}201", "乙一村", shapely.box(1, 0, 2, 1)),
        f"{B}202": _village(f"{B}202", "乙二村", shapely.box(1, 1, 2, 2)),
        f"{C}201": _village(f"{C}201", "丙一村", shapely.box(2, 0, 3, 0.5)),
        f"{C}202": _village(f"{C}202", "丙二村", shapely.box(2, 0.5, 3, 1.5)),
        f"{C}203": _village(f"{C}203", "丙三村", shapely.box(2, 1.5, 3, 2)),
    }
    grids = {
        f"{A}201001": Grid(f"{A}201001", "甲一村第1网格", f"{A}201", shapely.box(0, 0, 0.5, 1), "rural", 100, 300),
        f"{A}201002": Grid(f"{A}201002", "甲一村第2网格", f"{A}201", shapely.box(0.5, 0, 1, 1), "rural", 100, 300),
    }
    for code, unit in units.items():
        if unit.level == "village" and code != f"{A}201":
            grids[f"{code}001"] = Grid(f"{code}001", f"{unit.name}第1网格", code, unit.geom, "rural", 80, 240)
    return units, grids


def plan(*items: dict[str, Any]) -> RedistrictingPlan:
    return RedistrictingPlan.model_validate(
        {
            "plan_id": "operations-test",
            "county": COUNTY,
            "effective_date": "2026-12-01",
            "legal_basis": "测试〔2026〕2号",
            "items": list(items),
        }
    )


def outcome(*items: dict[str, Any]) -> Outcome:
    units, grids = registry()
    return apply_plan(plan(*items), OUTLINE, units, grids)


def applied(*items: dict[str, Any]) -> tuple[Outcome, dict[str, Unit], dict[str, Grid]]:
    """The outcome (no error), and the units and grids its rows make, which must tile."""
    units, grids = registry()
    out = apply_plan(plan(*items), OUTLINE, units, grids)
    assert out.errors == []
    after_units, after_grids = out.rows.units_after(units), out.rows.grids_after(grids)
    assert county_errors(COUNTY, OUTLINE, after_units, after_grids) == []
    return out, after_units, after_grids


def edges(out: Outcome, level: str) -> list[tuple[str, str, str]]:
    return sorted((e.from_code, e.to_code, e.kind) for e in out.lineage if e.level == level)


def share_of(out: Outcome, from_code: str, to_code: str) -> dict[str, object]:
    found = [e for e in out.lineage if (e.from_code, e.to_code) == (from_code, to_code)]
    assert len(found) == 1 and found[0].share is not None
    return dict(found[0].share)


def test_a_new_township_is_created_from_villages_and_a_drawn_area_of_townships_that_continue() -> None:
    out, units, grids = applied(
        {
            "op": "create",
            "code": NEW_TOWN,
            "name": "新城街道",
            "villages": [
                {"code": f"{A}202", "new_code": f"{NEW_TOWN}001", "name": "新城社区"},
                {"code": f"{B}202", "new_code": f"{NEW_TOWN}002"},
            ],
            "areas": [
                {
                    "source": f"{B}201",
                    "area": mapping(shapely.box(1, 0.5, 2, 1)),
                    "into": f"{NEW_TOWN}201",
                    "name": "南村",
                }
            ],
        }
    )
    assert units[NEW_TOWN].parent == COUNTY and units[NEW_TOWN].geom.equals(
        shapely.box(0, 1, 2, 2).union(shapely.box(1, 0.5, 2, 1))
    )
    assert {c: (u.name, u.parent) for c, u in units.items() if u.parent == NEW_TOWN} == {
        f"{NEW_TOWN}001": ("新城社区", NEW_TOWN),
        f"{NEW_TOWN}002": ("乙二村", NEW_TOWN),
        f"{NEW_TOWN}201": ("南村", NEW_TOWN),
    }
    assert A in units and B in units  # the sources continue, smaller
    assert units[B].geom.equals(shapely.box(1, 0, 2, 0.5))
    assert share_of(out, A, NEW_TOWN) == {"villages": [f"{A}202"], "area": 0.5}
    assert share_of(out, B, NEW_TOWN) == {"villages": [f"{B}202"], "area": 0.75, "drawn_from": [f"{B}201"]}
    assert edges(out, "village") == [
        (f"{A}202", f"{NEW_TOWN}001", "recoded_to"),
        (f"{B}201", f"{NEW_TOWN}201", "part_transferred_to"),
        (f"{B}202", f"{NEW_TOWN}002", "recoded_to"),
    ]
    # the cut grid keeps its remainder under its code and its piece in the new village
    assert grids[f"{B}201001"].geom.equals(shapely.box(1, 0, 2, 0.5))
    assert grids[f"{NEW_TOWN}201001"].geom.equals(shapely.box(1, 0.5, 2, 1))
    assert grids[f"{B}201001"].households + grids[f"{NEW_TOWN}201001"].households == 80
    assert out.rows.units_ended == (A, f"{A}202", B, f"{B}201", f"{B}202")


def test_a_new_village_is_created_from_drawn_areas_of_two_villages() -> None:
    new = f"{A}203"
    out, units, grids = applied(
        {
            "op": "create",
            "code": new,
            "name": "甲三村",
            "areas": [
                {"source": f"{A}201", "area": mapping(shapely.box(0, 0.8, 1, 1))},
                {"source": f"{A}202", "area": mapping(shapely.box(0, 1, 1, 1.2))},
            ],
        }
    )
    assert units[new].geom.equals(shapely.box(0, 0.8, 1, 1.2)) and units[new].parent == A
    assert edges(out, "village") == [
        (f"{A}201", new, "part_transferred_to"),
        (f"{A}202", new, "part_transferred_to"),
    ]
    assert share_of(out, f"{A}201", new) == {"area": 0.2}
    # both grids of 甲一村 are cut: each keeps its remainder, each piece is a grid of the new village
    assert sorted(c for c, g in grids.items() if g.village == new) == [f"{new}001", f"{new}002", f"{new}003"]
    assert A not in out.changed_units  # the township keeps its outline


def test_a_township_divided_among_three_successors_lists_every_successor_with_its_share() -> None:
    out, units, grids = applied(
        {
            "op": "divide",
            "code": C,
            "shares": [
                {"into": A, "villages": [{"code": f"{C}201", "new_code": f"{A}210"}]},
                {
                    "into": B,
                    "villages": [{"code": f"{C}202", "new_code": f"{B}210", "name": "乙中村"}],
                    "areas": [{"source": f"{C}201", "area": mapping(shapely.box(2, 0, 2.5, 0.5)), "into": f"{B}210"}],
                },
                {"into": NEW_TOWN, "name": "丙新镇", "villages": [{"code": f"{C}203", "new_code": f"{NEW_TOWN}201"}]},
            ],
        }
    )
    assert C not in units
    assert edges(out, "township") == [(C, A, "divided_into"), (C, B, "divided_into"), (C, NEW_TOWN, "divided_into")]
    assert share_of(out, C, A) == {"villages": [f"{C}201"], "area": 0.125}
    assert share_of(out, C, B) == {"villages": [f"{C}202"], "area": 0.625, "drawn_from": [f"{C}201"]}
    assert share_of(out, C, NEW_TOWN) == {"villages": [f"{C}203"], "area": 0.25}
    assert units[NEW_TOWN].name == "丙新镇" and units[f"{B}210"].name == "乙中村"
    assert units[f"{A}210"].geom.equals(shapely.box(2.5, 0, 3, 0.5))
    assert units[A].geom.equals(shapely.box(0, 0, 1, 2).union(shapely.box(2.5, 0, 3, 0.5)))
    # 丙一村's grid went to 甲 and was then cut: one piece stays, the other follows the drawn area to 乙中村
    assert grids[f"{A}210001"].geom.equals(shapely.box(2.5, 0, 3, 0.5))
    assert grids[f"{B}210002"].geom.equals(shapely.box(2, 0, 2.5, 0.5))
    assert out.rows.units_ended.count(C) == 1 and NEW_TOWN in {u.code for u in out.rows.units_started}


@pytest.mark.parametrize(
    ("shares", "error"),
    [
        (
            [
                {"into": A, "villages": [{"code": f"{C}201", "new_code": f"{A}210"}]},
                {"into": B, "villages": [{"code": f"{C}202", "new_code": f"{B}210"}]},
            ],
            f"villages of {C} given to no successor: {C}203",
        ),
        (
            [
                {
                    "into": A,
                    "villages": [
                        {"code": f"{C}201", "new_code": f"{A}210"},
                        {"code": f"{C}202", "new_code": f"{A}211"},
                    ],
                },
                {
                    "into": B,
                    "villages": [
                        {"code": f"{C}202", "new_code": f"{B}210"},
                        {"code": f"{C}203", "new_code": f"{B}211"},
                    ],
                },
            ],
            f"villages given to more than one successor: {C}202",
        ),
        (
            [
                {
                    "into": A,
                    "villages": [
                        {"code": f"{C}201", "new_code": f"{A}210"},
                        {"code": f"{C}202", "new_code": f"{A}211"},
                    ],
                },
                {"into": NEW_TOWN, "villages": [{"code": f"{C}203", "new_code": f"{NEW_TOWN}201"}]},
            ],
            f"successor {NEW_TOWN} does not exist; give `name` to create it",
        ),
        (
            [
                {
                    "into": A,
                    "villages": [
                        {"code": f"{C}201", "new_code": f"{A}210"},
                        {"code": f"{C}202", "new_code": f"{A}211"},
                        {"code": f"{C}203", "new_code": f"{A}212"},
                    ],
                },
                {"into": B},
            ],
            f"successor {B} receives nothing: give it villages or drawn areas",
        ),
        (
            [
                {
                    "into": A,
                    "villages": [
                        {"code": f"{C}201", "new_code": f"{B}210"},
                        {"code": f"{C}202", "new_code": f"{A}211"},
                    ],
                },
                {"into": B, "villages": [{"code": f"{C}203", "new_code": f"{B}211"}]},
            ],
            f"village {C}201 moving into {A} needs a code of it, not {B}210",
        ),
    ],
)
def test_a_division_that_loses_or_doubles_a_village_is_refused_naming_it(
    shares: list[dict[str, Any]], error: str
) -> None:
    out = outcome({"op": "divide", "code": C, "shares": shares})
    assert out.errors == [f"item 1 (divide): {error}"]


def test_a_village_changes_its_parent_and_its_code_follows() -> None:
    out, units, grids = applied({"op": "reparent", "code": f"{A}201", "parent": B})
    moved = f"{B}200"  # B201 is taken: the next free number of the 200s
    assert units[moved].parent == B and units[moved].name == "甲一村" and f"{A}201" not in units
    assert edges(out, "village") == [(f"{A}201", moved, "recoded_to")]
    assert sorted(c for c, g in grids.items() if g.village == moved) == [f"{moved}001", f"{moved}002"]
    out, units, _ = applied({"op": "reparent", "code": f"{C}203", "parent": B, "new_code": f"{B}230"})
    assert units[f"{B}230"].parent == B


def test_a_village_cannot_be_reparented_where_it_is_or_onto_a_taken_code() -> None:
    assert outcome({"op": "reparent", "code": f"{A}201", "parent": A}).errors == [
        f"item 1 (reparent): village {A}201 already lies in township {A}"
    ]
    assert outcome({"op": "reparent", "code": f"{A}201", "parent": B, "new_code": f"{B}202"}).errors == [
        f"item 1 (reparent): code {B}202 is already in use"
    ]


def test_a_drawn_area_moves_into_a_village_of_another_township() -> None:
    out, units, grids = applied(
        {"op": "transfer_part", "source": f"{B}201", "target": f"{A}201", "area": mapping(shapely.box(1, 0, 1.25, 1))}
    )
    assert units[A].geom.equals(shapely.box(0, 0, 1, 2).union(shapely.box(1, 0, 1.25, 1)))
    assert units[B].geom.equals(shapely.box(1, 0, 2, 2).difference(shapely.box(1, 0, 1.25, 1)))
    assert share_of(out, f"{B}201", f"{A}201") == {"area": 0.25}
    assert grids[f"{A}201003"].geom.equals(shapely.box(1, 0, 1.25, 1))


def test_a_new_unit_needs_a_free_code_and_parts() -> None:
    assert outcome({"op": "create", "code": A, "name": "甲镇", "villages": []}).errors == [
        f"item 1 (create): code {A} is already in use"
    ]
    assert outcome({"op": "create", "code": NEW_TOWN, "name": "空镇"}).errors == [
        f"item 1 (create): name the villages or drawn areas township {NEW_TOWN} is made of"
    ]
    whole = {"code": f"{A}201", "new_code": f"{A}209"}
    assert outcome({"op": "create", "code": f"{A}209", "name": "甲九村", "villages": [whole]}).errors == [
        "item 1 (create): a new village is made of drawn areas; to join whole villages, merge them"
    ]


def test_a_code_an_applied_plan_ended_never_returns() -> None:
    units, grids = registry()
    gone = {NEW_TOWN: "merged_into 510822100 by plan earlier on 2025-01-01"}
    item = {
        "op": "create",
        "code": NEW_TOWN,
        "name": "新城街道",
        "villages": [{"code": f"{A}202", "new_code": f"{NEW_TOWN}001"}],
    }
    out = apply_plan(plan(item), OUTLINE, units, grids, gone=gone)
    ended = f"belonged to a unit an applied plan ended ({gone[NEW_TOWN]})"
    assert out.errors == [f"item 1 (create): code {NEW_TOWN} {ended}: codes never return"]


def test_lineage_edges_compare_without_their_share() -> None:
    assert Lineage("a", "b", "divided_into", "township", {"area": 0.5}) == Lineage("a", "b", "divided_into", "township")
