"""Tests of the deterministic synthetic township, village and grid polygons."""

from __future__ import annotations

import math
from collections import defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import shapely

import dispatch
from dispatch.geometry.synthetic import (
    Division,
    Polygonal,
    SyntheticUnit,
    generate_county,
    grid_code,
    is_community,
    is_statistical_only,
    load_county_outline,
    partition,
    read_divisions,
    short_name,
    stable_rng,
)

DATA = Path(dispatch.__file__).parent / "data" / "guangyuan"
COUNTY = "510822"  # 青川县
RESERVE = "510822400"  # 唐家河国家级自然保护区, a statistical-only area


@cache
def divisions(year: int) -> tuple[Division, ...]:
    """Read a year's division list once."""
    return tuple(read_divisions(DATA / f"divisions-{year}.csv"))


@cache
def outline() -> Polygonal:
    """Load the county outline once."""
    return load_county_outline(DATA / "counties.geojson", COUNTY)


@cache
def units(year: int, seed: int = 2020) -> tuple[SyntheticUnit, ...]:
    """Generate the county once per year and seed."""
    return tuple(generate_county(outline(), list(divisions(year)), COUNTY, seed=seed))


def by_level(found: tuple[SyntheticUnit, ...], level: str) -> list[SyntheticUnit]:
    """Pick the units of one level."""
    return [u for u in found if u.level == level]


def test_reads_the_repository_data() -> None:
    rows = divisions(2020)
    assert rows[0] == Division("510800", "广元市", "city", "51")
    assert {r.level for r in rows} == {"city", "county", "township", "village"}
    assert all(len(r.code) == 12 and r.parent_code == r.code[:9] for r in rows if r.level == "village")
    assert outline().is_valid and outline().area > 0.2
    with pytest.raises(KeyError):
        load_county_outline(DATA / "counties.geojson", "110101")


def test_same_seed_same_output() -> None:
    first = units(2020)
    again = generate_county(outline(), list(divisions(2020)), COUNTY, seed=2020)
    assert [u.code for u in first] == [u.code for u in again]
    assert [shapely.to_wkb(u.polygon) for u in first] == [shapely.to_wkb(u.polygon) for u in again]
    assert [(u.households, u.population, u.kind, u.name) for u in first] == [
        (u.households, u.population, u.kind, u.name) for u in again
    ]


def test_another_seed_moves_the_boundaries() -> None:
    a = {u.code: u.polygon for u in by_level(units(2020), "township")}
    b = {u.code: u.polygon for u in by_level(units(2020, seed=7), "township")}
    assert a.keys() == b.keys()
    assert any(not a[c].equals(b[c]) for c in a)


def test_stable_rng_uses_no_process_hash() -> None:
    assert stable_rng(2020, RESERVE).integers(0, 10**9) == stable_rng(2020, RESERVE).integers(0, 10**9)
    assert stable_rng(2020, RESERVE).random() != stable_rng(2020, "510822100").random()


@pytest.mark.parametrize("year", [2019, 2020])
def test_every_level_tiles_its_parent(year: int) -> None:
    found = units(year)
    parents: dict[str, Polygonal] = {COUNTY: outline(), **{u.code: u.polygon for u in found}}
    children: dict[str, list[SyntheticUnit]] = defaultdict(list)
    for u in found:
        children[u.parent_code].append(u)
    assert {u.parent_code for u in by_level(found, "township")} == {COUNTY}
    for parent_code, kids in children.items():
        parent = parents[parent_code]
        geoms = np.array([k.polygon for k in kids])
        union = shapely.union_all(geoms)
        assert abs(union.area - parent.area) <= 1e-6 * parent.area, parent_code
        assert shapely.symmetric_difference(union, parent).area <= 1e-6 * parent.area, parent_code
        tree = shapely.STRtree(geoms)
        a, b = tree.query(geoms, predicate="intersects")
        pairs = a < b
        overlap = shapely.area(shapely.intersection(geoms[a[pairs]], geoms[b[pairs]])).sum()
        assert overlap <= 1e-9 * parent.area, parent_code


@pytest.mark.parametrize("year", [2019, 2020])
def test_polygons_are_valid_and_polygonal(year: int) -> None:
    for u in units(year):
        assert isinstance(u.polygon, shapely.Polygon | shapely.MultiPolygon), u.code
        assert u.polygon.is_valid and u.polygon.area > 0, u.code
        assert shapely.get_num_coordinates(u.polygon) < 400, u.code
        minx, miny, maxx, maxy = u.polygon.bounds
        assert 104 < minx < maxx < 106 and 31 < miny < maxy < 33, u.code


@pytest.mark.parametrize("year", [2019, 2020])
def test_every_township_and_village_of_the_county_is_present(year: int) -> None:
    rows = divisions(year)
    townships = {r.code for r in rows if r.level == "township" and r.parent_code == COUNTY}
    villages = {r.code for r in rows if r.level == "village" and r.parent_code in townships}
    found = units(year)
    assert {u.code for u in by_level(found, "township")} == townships
    assert {u.code for u in by_level(found, "village")} == villages
    assert all(u.code.startswith(COUNTY) for u in found)
    assert len({u.code for u in found}) == len(found)
    names = {r.code: r.name for r in rows}
    assert all(u.name == names[u.code] for u in found if u.level != "grid")


def test_grid_codes_names_and_counts() -> None:
    found = units(2020)
    villages = {u.code: u for u in by_level(found, "village")}
    grids: dict[str, list[SyntheticUnit]] = defaultdict(list)
    for g in by_level(found, "grid"):
        assert len(g.code) == 15 and g.code.isdigit()
        assert g.code[:12] == g.parent_code
        grids[g.parent_code].append(g)
    assert grids.keys() == villages.keys()
    for code, village in villages.items():
        own = grids[code]
        assert [g.code for g in own] == [f"{code}{i:03d}" for i in range(1, len(own) + 1)]
        assert [g.name for g in own] == [f"{short_name(village.name)}第{i}网格" for i in range(1, len(own) + 1)]
        assert len(own) == max(1, math.ceil(village.households / 300))
        assert sum(g.households for g in own) == village.households
        assert sum(g.population for g in own) == village.population
    assert grid_code("510822100201", 3) == "510822100201003"
    with pytest.raises(ValueError):
        grid_code("510822100", 1)


def test_households_add_up_to_townships() -> None:
    found = units(2020)
    for township in by_level(found, "township"):
        own = [v for v in by_level(found, "village") if v.parent_code == township.code]
        assert township.households == sum(v.households for v in own) > 0
        assert township.population == sum(v.population for v in own) > township.households


def test_grid_kinds_follow_the_village() -> None:
    found = units(2020)
    villages = {u.code: u for u in by_level(found, "village")}
    kinds = {u.kind for u in by_level(found, "grid")}
    assert kinds == {"residential", "commercial", "rural", "special"}
    for g in by_level(found, "grid"):
        village = villages[g.parent_code]
        if village.statistical_only:
            assert g.kind == "special"
        elif is_community(village.name):
            assert g.kind in {"residential", "commercial"}
        else:
            assert g.kind == "rural"
    assert all(u.kind == "" for u in found if u.level != "grid")


def test_statistical_only_area_is_kept_and_marked() -> None:
    found = units(2019)
    reserve = next(u for u in found if u.code == RESERVE)
    assert reserve.name == "唐家河国家级自然保护区" and reserve.statistical_only
    inside = [u for u in found if u.code.startswith(RESERVE)]
    assert {u.level for u in inside} == {"township", "village", "grid"}
    assert all(u.statistical_only for u in inside)
    assert not any(u.statistical_only for u in found if not u.code.startswith(RESERVE))
    assert is_statistical_only(RESERVE) and not is_statistical_only("510822225")


def test_township_without_villages_gets_one_grid() -> None:
    rows = [r for r in divisions(2020) if r.level == "township" and r.parent_code == COUNTY]
    rows += [r for r in divisions(2020) if r.level == "village" and r.parent_code == "510822100"]
    found = generate_county(outline(), rows, COUNTY)
    empty = next(u for u in found if u.code == "510822101")
    grids = [u for u in found if u.parent_code == "510822101"]
    assert [g.code for g in grids] == ["510822101000001"]
    assert grids[0].level == "grid" and grids[0].kind == "rural" and grids[0].name == "青溪镇第1网格"
    assert grids[0].polygon.equals(empty.polygon)
    assert grids[0].households == empty.households > 0


def test_unknown_county_fails() -> None:
    with pytest.raises(ValueError):
        generate_county(outline(), list(divisions(2020)), "999999")


def test_partition_sizes_follow_weights() -> None:
    square = shapely.box(105.0, 32.0, 105.1, 32.1)
    pieces = partition(square, [1.0, 1.0, 2.0, 4.0], stable_rng(1, "square"), cells_per_unit=20)
    areas = np.array([p.area for p in pieces]) / square.area
    assert abs(areas.sum() - 1) < 1e-9
    assert np.all(np.abs(areas - np.array([1, 1, 2, 4]) / 8) < 0.08)
    assert partition(square, [1.0], stable_rng(1, "square")) == [square]
    assert partition(square, [], stable_rng(1, "square")) == []


def test_names() -> None:
    assert short_name("张家村村民委员会") == "张家村"
    assert short_name("秦兴社区居民委员会") == "秦兴社区"
    assert short_name("大巴口社区居委会") == "大巴口社区"
    assert short_name("第四居委会") == "第四居委会"
    assert is_community("城郊社区居民委会员") and is_community("第四居委会")
    assert not is_community("红林村村委会")
