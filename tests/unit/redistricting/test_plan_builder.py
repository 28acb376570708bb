"""`plan build` tells the truth, on every county of the real data: the plan built from the 2019 and 2020 lists
applies to the 2019 registry without an error, the result is the 2020 list (codes, names, parents), and every guess
is a review item pointing at the item that carries it."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest

import dispatch
from dispatch.geometry.synthetic import Division, generate_county, load_county_outline, read_divisions
from dispatch.redistricting.builder import build_plan
from dispatch.redistricting.model import Grid, Unit
from dispatch.redistricting.validate import apply_plan

DATA = Path(dispatch.__file__).parent / "data" / "guangyuan"


@cache
def lists() -> tuple[list[Division], list[Division]]:
    return read_divisions(DATA / "divisions-2019.csv"), read_divisions(DATA / "divisions-2020.csv")


def changed_counties() -> list[str]:
    """Every county whose townships or villages differ between the two lists."""
    before, after = lists()

    def of(divisions: list[Division], county: str) -> set[tuple[str, str, str]]:
        return {(d.code, d.name, d.parent_code) for d in divisions if d.level != "county" and d.code[:6] == county}

    counties = sorted(d.code for d in before if d.level == "county")
    return [c for c in counties if of(before, c) != of(after, c)]


def test_every_county_of_the_data_changed() -> None:
    assert changed_counties() == ["510802", "510811", "510812", "510821", "510822", "510823", "510824"]


@pytest.mark.parametrize("county", changed_counties())
def test_the_built_plan_turns_the_2019_registry_into_the_2020_list(county: str) -> None:
    before, after = lists()
    outline = load_county_outline(DATA / "counties.geojson", county)
    generated = generate_county(outline, before, county)
    units = {
        u.code: Unit(u.code, u.name, u.level, u.parent_code, u.polygon, u.statistical_only)
        for u in generated
        if u.level in ("township", "village")
    }
    grids = {
        u.code: Grid(u.code, u.name, u.parent_code, u.polygon, u.kind, u.households, u.population)
        for u in generated
        if u.level == "grid"
    }
    plan = build_plan(before, after, county, f"build-{county}", date(2020, 1, 1), "广府〔2019〕118号")
    out = apply_plan(plan, outline, units, grids)
    assert out.errors == []
    wanted = {
        d.code: (d.name, d.parent_code) for d in after if d.level in ("township", "village") and d.code[:6] == county
    }
    assert {c: (u.name, u.parent) for c, u in out.rows.units_after(units).items()} == wanted
    for review in plan.review:
        assert review.item is not None, review  # every guess points at the item that carries it
        item = plan.items[review.item - 1]
        assert review.code in item.model_dump_json()


def test_new_townships_formed_from_parts_and_divided_townships_use_their_operations() -> None:
    before, after = lists()
    lizhou = build_plan(before, after, "510802", "lizhou", date(2020, 1, 1), "利府〔2019〕1号")
    [create] = [i for i in lizhou.items if i.op == "create"]
    assert create.model_dump(include={"code", "name"}) == {"code": "510802011", "name": "万缘街道"}
    assert sorted(m.code[:9] for m in create.villages) == ["510802001"] * 3 + ["510802101"] * 3  # both continue
    chaotian = build_plan(before, after, "510812", "chaotian", date(2020, 1, 1), "朝府〔2019〕1号")
    divided = {i.code: sorted(s.into for s in i.shares) for i in chaotian.items if i.op == "divide"}
    assert divided["510812212"] == ["510812103", "510812109", "510812112"]  # 李家乡 among three
