"""Reading and checking a grid file, without a database: codes, attributes, kinds, villages, tiling and members."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

import orjson
import pytest
import shapefile
from shapely.geometry import Polygon, box, mapping

from dispatch.registry.grid_check import Member, RegistryView, Village, check_grids
from dispatch.registry.grid_fields import GridFields, resolve
from dispatch.registry.grid_file import UnreadableFile, read_grid_file
from dispatch.registry.grid_rows import GridRow
from dispatch.registry.grid_store import BadGridFile, GridReferencesNotFound, grid_rows, refusal

VILLAGE = "510822100001"
DAY = date(2027, 1, 1)
WEST, EAST = box(105.0, 32.0, 105.01, 32.02), box(105.01, 32.0, 105.02, 32.02)


def feature(code: object, geom: Any = WEST, **props: object) -> dict[str, Any]:
    """A GeoJSON feature with the Chinese attribute names county data uses."""
    base: dict[str, object] = {"网格编码": code, "网格名称": "一网格", "户数": 120, "人口": 380, "类型": "农村网格"}
    base.update(props)
    return {
        "type": "Feature",
        "properties": {k: v for k, v in base.items() if v is not None},
        "geometry": mapping(geom),
    }


def geojson(*features: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": "FeatureCollection", "features": list(features)})


def rows_of(data: bytes) -> list[GridRow]:
    return grid_rows(read_grid_file(data, "grids.geojson"), GridFields())


def view(**members: Member) -> RegistryView:
    village = Village(VILLAGE, "桥楼村", VILLAGE[:9], box(105.0, 32.0, 105.02, 32.02))
    return RegistryView(DAY, {VILLAGE: village}, {k: [m] for k, m in members.items()})


def test_a_geojson_with_chinese_attribute_names_reads_as_grids() -> None:
    data = geojson(
        feature(f"{VILLAGE}001", 网格员="13800000001"),
        feature(510822100001002, EAST, 类型="城镇网格", 户数="95", 人口=301.0),
    )
    first, second = rows_of(data)
    assert (first.code, first.name, first.households, first.population, first.kind) == (
        f"{VILLAGE}001",
        "一网格",
        120,
        380,
        "rural",
    )
    assert first.member == "13800000001" and second.member is None
    assert (second.code, second.kind, second.households, second.population) == (f"{VILLAGE}002", "urban", 95, 301)


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ("51082210000100", "15-digit"),
        ("510822100001000", "sequence not 000"),
        ("5108221000010x1", "15-digit"),
        (None, "15-digit"),
    ],
)
def test_a_bad_code_is_named_at_its_feature(code: object, what: str) -> None:
    with pytest.raises(BadGridFile) as caught:
        rows_of(geojson(feature(f"{VILLAGE}001"), feature(code, EAST)))
    (problem,) = caught.value.problems
    assert problem.loc == ("body", "file", "features", 1)
    assert "feature 2" in problem.msg and "网格编码" in problem.msg and what in problem.msg


def test_a_missing_attribute_is_named_for_the_file_or_the_grid() -> None:
    no_column = geojson(feature(f"{VILLAGE}001", 户数=None), feature(f"{VILLAGE}002", EAST, 户数=None))
    with pytest.raises(BadGridFile) as caught:
        rows_of(no_column)
    assert [p.loc for p in caught.value.problems] == [("body", "file")]
    assert "households" in caught.value.problems[0].msg and "户数" in caught.value.problems[0].msg
    one_missing = geojson(feature(f"{VILLAGE}001"), feature(f"{VILLAGE}002", EAST, 人口=""))
    with pytest.raises(BadGridFile) as caught:
        rows_of(one_missing)
    (problem,) = caught.value.problems
    assert f"grid {VILLAGE}002" in problem.msg and "`人口` is missing" in problem.msg


def test_bad_values_are_named() -> None:
    bad = geojson(
        feature(f"{VILLAGE}001", 类型="工业网格"),
        feature(f"{VILLAGE}002", EAST, 户数=-3),
        feature(f"{VILLAGE}003", Polygon([(105, 32), (105.01, 32.01), (105.01, 32), (105, 32.01)])),
        feature(f"{VILLAGE}004", EAST),
        feature(f"{VILLAGE}004", EAST),
    )
    with pytest.raises(BadGridFile) as caught:
        rows_of(bad)
    messages = [p.msg for p in caught.value.problems]
    assert "'工业网格' is no grid kind" in messages[0]
    assert f"grid {VILLAGE}002" in messages[1] and "whole number" in messages[1]
    assert f"grid {VILLAGE}003" in messages[2] and "polygon" in messages[2]
    assert len(messages) == 4 and f"grid {VILLAGE}004 (feature 5): same code as feature 4" in messages[3]


def test_attribute_names_can_be_given() -> None:
    data = geojson(feature(f"{VILLAGE}001", 网格编码=None, BM=f"{VILLAGE}001"))
    (row,) = grid_rows(read_grid_file(data), GridFields.with_overrides(code="BM"))
    assert row.code == f"{VILLAGE}001"
    with pytest.raises(ValueError, match="colour"):
        GridFields.with_overrides(colour="x")


def test_unreadable_bytes_are_refused_naming_the_file() -> None:
    for data in (b"not a grid file", b'{"type": "Feature"}', b"PK\x03\x04broken", b"{broken"):
        with pytest.raises(UnreadableFile) as caught:
            read_grid_file(data, "x")
        assert caught.value.loc == ("body", "file")


def shapefile_zip(encoding: str, cpg: bool = True) -> bytes:
    """A zipped shapefile with Chinese attribute names, as pyshp writes one."""
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding=encoding) as w:
        for name, kind, size in (("网格编码", "C", 15), ("户数", "N", 8), ("人口", "N", 8), ("类型", "C", 20)):
            w.field(name, kind, size=size)
        w.field("网格员", "C", size=20)
        for n, geom in enumerate((WEST, EAST), start=1):
            w.poly([list(reversed(geom.exterior.coords))])
            w.record(f"{VILLAGE}00{n}", 10 * n, 30 * n, "专属网格", "gm-1" if n == 1 else "")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for suffix, part in (("shp", shp), ("shx", shx), ("dbf", dbf)):
            z.writestr(f"grids/网格.{suffix}", part.getvalue())
        if cpg:
            z.writestr("grids/网格.cpg", encoding.upper())
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore:Dropped")  # pyshp warns as it cuts a UTF-8 name to 10 bytes: the point
@pytest.mark.parametrize(("encoding", "cpg"), [("gbk", True), ("gbk", False), ("utf-8", True)])
def test_a_zipped_shapefile_reads_in_gbk_or_utf8_with_names_cut_to_ten_bytes(encoding: str, cpg: bool) -> None:
    read = read_grid_file(shapefile_zip(encoding, cpg), "grids.zip")
    assert resolve(GridFields(), read.field_names, read.encoding)["code"] is not None
    first, second = grid_rows(read, GridFields())
    assert (first.code, first.households, first.population, first.kind, first.member) == (
        f"{VILLAGE}001",
        10,
        30,
        "special",
        "gm-1",
    )
    assert second.member is None and second.geom.equals(EAST)


def test_grids_that_tile_their_village_pass_and_a_grid_without_member_is_vacant() -> None:
    member = Member("gm-1", "王伟", VILLAGE)
    rows = rows_of(geojson(feature(f"{VILLAGE}001", 网格员="13800000001"), feature(f"{VILLAGE}002", EAST)))
    plan = check_grids(rows, view(**{"13800000001": member}))
    assert plan.problems == []
    assert plan.villages == [VILLAGE] and plan.members == {f"{VILLAGE}001": member}
    assert plan.vacant == [f"{VILLAGE}002"]


def test_an_unknown_village_is_a_missing_reference() -> None:
    rows = rows_of(geojson(feature("510822100009001")))
    (problem,) = check_grids(rows, view()).problems
    assert problem.missing and "510822100009" in problem.msg and "grid 510822100009001" in problem.msg
    assert isinstance(refusal([problem]), GridReferencesNotFound)


def test_an_overlap_names_both_grids_and_a_gap_names_the_village_and_its_neighbours() -> None:
    wide = box(105.0, 32.0, 105.012, 32.02)
    overlapping = rows_of(geojson(feature(f"{VILLAGE}001", wide), feature(f"{VILLAGE}002", EAST)))
    (problem,) = check_grids(overlapping, view()).problems
    assert f"grid {VILLAGE}001 overlaps grid {VILLAGE}002" in problem.msg and "m²" in problem.msg
    assert problem.loc == ("body", "file", "features", 0) and not problem.missing
    narrow = box(105.01, 32.0, 105.018, 32.02)
    gap = rows_of(geojson(feature(f"{VILLAGE}001"), feature(f"{VILLAGE}002", narrow)))
    (problem,) = check_grids(gap, view()).problems
    assert f"village {VILLAGE}" in problem.msg and "covered by no grid" in problem.msg
    assert f"beside {VILLAGE}002" in problem.msg and problem.loc == ("body", "file", "features", 1)
    assert not isinstance(refusal([problem]), GridReferencesNotFound)


def test_members_must_be_serving_grid_members_of_the_grids_unit() -> None:
    rows = rows_of(geojson(feature(f"{VILLAGE}001", 网格员="gm-x"), feature(f"{VILLAGE}002", EAST, 网格员="gm-far")))
    problems = check_grids(rows, view(**{"gm-far": Member("gm-far", "李娜", "510822200001")})).problems
    assert [p.missing for p in problems] == [True, False]
    assert "'gm-x' is no serving grid member" in problems[0].msg
    assert "serves 510822200001" in problems[1].msg


def test_a_village_with_a_later_grid_version_is_refused() -> None:
    rows = rows_of(geojson(feature(f"{VILLAGE}001"), feature(f"{VILLAGE}002", EAST)))
    registry = view()
    registry.later[VILLAGE] = date(2027, 3, 1)
    (problem,) = check_grids(rows, registry).problems
    assert "2027-03-01" in problem.msg and "later effective date" in problem.msg
