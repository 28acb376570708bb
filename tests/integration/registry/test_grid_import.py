"""Real grids in (#16): grid files drawn from the registry's own villages, in the formats counties hand over (GeoJSON,
and a GBK shapefile written by pyshp, with Chinese attribute names), imported by `gridctl import-grids` and by an
administrator over HTTP; the county still tiles, events route to the mapped members, a broken file changes nothing,
and another township's administrator cannot reach the villages."""

from __future__ import annotations

import io
import itertools
import subprocess
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import pytest_asyncio
import shapefile
import shapely
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from core.cases import case_id_for_event
from core.vocabulary import Role
from dispatch.access.users import User
from dispatch.clock import local_day
from tests.integration.auth import admin_headers, as_person, bearer, demo_password_hash
from tests.integration.conftest import running_stack
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, client_on, pool_on, wait_for
from tests.integration.helpers import event

pytestmark = pytest.mark.integration

COUNTY = "510822"
TOWNSHIP = "510822100"
TODAY = local_day(datetime.now(UTC))
FIELDS = (("网格编码", "C", 15), ("网格名称", "C", 40), ("户数", "N", 8), ("人口", "N", 8), ("类型", "C", 12))
KINDS = ("城镇网格", "农村网格", "专属网格")


def gridctl(ts: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run gridctl in the stack's environment, returning whatever it did."""
    return subprocess.run([str(VENV_BIN / "gridctl"), *args], env=ts.env, cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def grid_stack() -> Iterator[LiveStack]:
    """The demo county on a database and topics of its own: the imports here change its grids. Duplicate detection
    is off, since the tests post at one point until the processors have reloaded; stranded cases are looked for
    every second."""
    env = {"GRID_DUPLICATE_RADIUS_M": "0", "GRID_TRANSFER_CHECK_SECONDS": "1"}
    with running_stack(["demo", "load", "--no-notify"], extra_env=env) as ts:
        yield ts


@pytest_asyncio.fixture(scope="module")
async def gdb(grid_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    async with pool_on(grid_stack) as pool:
        yield pool


@pytest_asyncio.fixture(scope="module")
async def admin(grid_stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    async with client_on(grid_stack, admin_headers()) as client:
        yield client


async def village(db: asyncpg.Pool, offset: int) -> asyncpg.Record:
    """A village of the first township with at least two grids (past the first, whose member is a demo account)."""
    row = await db.fetchrow(
        "SELECT a.code, a.name, ST_AsBinary(a.geom) AS wkb FROM admin_units a WHERE a.level = 'village'"
        " AND a.parent_code = $1 AND a.valid_to IS NULL AND a.geom IS NOT NULL"
        " AND (SELECT count(*) FROM grids g WHERE g.village_code = a.code AND g.valid_to IS NULL) >= 2"
        " ORDER BY a.code OFFSET $2 LIMIT 1",
        TOWNSHIP,
        offset,
    )
    assert row is not None
    return row


def strips(area: BaseGeometry, count: int) -> list[BaseGeometry]:
    """The area cut into `count` strips west to east, which tile it."""
    minx, miny, maxx, maxy = area.bounds
    edges = [minx + k * (maxx - minx) / count for k in range(count + 1)]
    edges[0], edges[-1] = minx - 1, maxx + 1
    return [
        shapely.intersection(area, box(west, miny - 1, east, maxy + 1), grid_size=1e-9)
        for west, east in itertools.pairwise(edges)
    ]


async def grid_table(db: asyncpg.Pool, village_code: str, members: list[str | None]) -> list[dict[str, Any]]:
    """The village's new grids as a county hands them over: code (sequence 901…), name, households, population,
    kind, member, polygon."""
    row = await db.fetchrow(
        "SELECT code, name, ST_AsBinary(geom) AS wkb FROM admin_units WHERE code = $1 AND valid_to IS NULL",
        village_code,
    )
    assert row is not None
    pieces = strips(shapely.from_wkb(row["wkb"]), len(members))
    return [
        {
            "网格编码": f"{row['code']}{901 + k}",
            "网格名称": f"{row['name']}第{k + 1}网格",
            "户数": 100 + k,
            "人口": 300 + k,
            "类型": KINDS[k % len(KINDS)],
            "网格员": member or "",
            "geometry": piece,
        }
        for k, (piece, member) in enumerate(zip(pieces, members, strict=True))
    ]


def as_geojson(grids: list[dict[str, Any]]) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {k: v for k, v in g.items() if k != "geometry"},
            "geometry": mapping(g["geometry"]),
        }
        for g in grids
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def as_shapefile(grids: list[dict[str, Any]]) -> dict[str, bytes]:
    """A GBK shapefile's parts, as a county's GIS tool writes them."""
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding="gbk") as w:
        for name, kind, size in FIELDS:
            w.field(name, kind, size=size)
        w.field("网格员", "C", size=40)
        for g in grids:
            w.shape(mapping(g["geometry"]))
            w.record(*(g[name] for name, _, _ in FIELDS), g["网格员"])
    return {"shp": shp.getvalue(), "shx": shx.getvalue(), "dbf": dbf.getvalue()}


def as_zipped_shapefile(grids: list[dict[str, Any]]) -> bytes:
    """A zipped GBK shapefile with its .cpg."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for suffix, part in as_shapefile(grids).items():
            z.writestr(f"乔庄镇网格.{suffix}", part)
        z.writestr("乔庄镇网格.cpg", "GBK")
    return out.getvalue()


async def member_of(db: asyncpg.Pool, grid: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT p.id, p.phone FROM grid_posts gp JOIN people p ON p.id = gp.person_id"
        " WHERE gp.grid_code = $1 AND gp.valid_to IS NULL",
        grid,
    )
    assert row is not None
    return row


async def old_grids(db: asyncpg.Pool, village_code: str) -> list[str]:
    rows = await db.fetch(
        "SELECT code FROM grids WHERE village_code = $1 AND valid_to IS NULL ORDER BY code", village_code
    )
    return [r["code"] for r in rows]


async def routed_to(http: httpx.AsyncClient, db: asyncpg.Pool, grid: BaseGeometry, grid_code: str) -> asyncpg.Record:
    """Post events inside a grid until one opens a case in it (the processors reload on the registry notice)."""
    spot = grid.point_on_surface()

    async def in_new_grid() -> asyncpg.Record | None:
        body = event(lon=spot.x, lat=spot.y, category="road")
        assert (await http.post("/api/v1/events", json=body)).status_code == 202
        case_id = case_id_for_event(uuid.UUID(body["event_id"]))
        row = await wait_for(lambda: db.fetchrow("SELECT * FROM cases WHERE id = $1", case_id), "the case")
        return row if row["grid_code"] == grid_code else None

    found: asyncpg.Record = await wait_for(in_new_grid, f"an event to be located in {grid_code}", within=30)
    return found


async def registry_counts(db: asyncpg.Pool) -> tuple[int, int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM grids WHERE valid_to IS NULL"),
        await db.fetchval("SELECT count(*) FROM grid_posts WHERE valid_to IS NULL"),
        await db.fetchval("SELECT coalesce(sum(revision), 0) FROM registry_revisions"),
    )


async def test_gridctl_imports_a_geojson_the_county_still_tiles_and_events_reach_the_mapped_member(
    grid_stack: LiveStack, gdb: asyncpg.Pool, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    place = await village(gdb, 1)
    before = await old_grids(gdb, place["code"])
    by_phone, by_id = await member_of(gdb, before[0]), await member_of(gdb, before[1])
    grids = await grid_table(gdb, place["code"], [by_phone["phone"], by_id["id"], None])
    path = tmp_path / "grids.geojson"
    path.write_bytes(as_geojson(grids))

    done = gridctl(grid_stack, "import-grids", str(path), "--effective", TODAY.isoformat())
    assert done.returncode == 0, done.stderr
    assert "imported 3 grids" in done.stderr and f"vacant: {place['code']}903" in done.stderr
    checked = gridctl(grid_stack, "check", COUNTY, "--on", TODAY.isoformat())
    assert checked.returncode == 0, checked.stderr

    assert await old_grids(gdb, place["code"]) == [g["网格编码"] for g in grids]
    ended = await gdb.fetch("SELECT valid_to FROM grids WHERE code = ANY($1) AND valid_to IS NOT NULL", before)
    assert {r["valid_to"] for r in ended} == {TODAY}  # their last day is the day before
    served = (await admin.get("/api/v1/grids", params={"township": TOWNSHIP})).json()["features"]
    shown = {f["properties"]["code"]: f["properties"] for f in served}
    first = shown[f"{place['code']}901"]
    assert (first["households"], first["population"], first["kind"], first["synthetic"]) == (100, 300, "urban", False)
    assert shown[f"{place['code']}902"]["kind"] == "rural" and not set(before) & set(shown)
    exported = gridctl(grid_stack, "export", "grid", "--county", COUNTY, "--on", TODAY.isoformat())
    written = {f["properties"]["code"]: f["properties"] for f in orjson.loads(exported.stdout)["features"]}
    assert {k: written[f"{place['code']}903"][k] for k in ("kind", "households", "population")} == {
        "kind": "special",
        "households": 102,
        "population": 302,
    }
    vacant = {v["code"] for v in (await admin.get("/api/v1/grids/vacant")).json()}
    assert f"{place['code']}903" in vacant

    case = await routed_to(admin, gdb, grids[0]["geometry"], f"{place['code']}901")
    assert (case["assignee_kind"], case["assignee_id"]) == ("grid_member", by_phone["id"])
    case = await routed_to(admin, gdb, grids[1]["geometry"], f"{place['code']}902")
    assert case["assignee_id"] == by_id["id"]


async def test_an_administrator_uploads_a_zipped_shapefile_dry_run_first(
    grid_stack: LiveStack, gdb: asyncpg.Pool, admin: httpx.AsyncClient
) -> None:
    place = await village(gdb, 2)
    before = await old_grids(gdb, place["code"])
    member = await member_of(gdb, before[0])
    account = "li.xiuying"  # the demo's cast signs in by person id: give this member an account of another name
    await gdb.execute("DELETE FROM users WHERE person_id = $1", member["id"])
    await gdb.execute(
        "INSERT INTO users (username, person_id, role, unit_code, password_hash)"
        " VALUES ($1, $2, 'grid_member', $3, $4)",
        account,
        member["id"],
        before[0],
        demo_password_hash(),
    )
    grids = await grid_table(gdb, place["code"], [account, None])
    upload = {"file": ("乔庄镇网格.zip", as_zipped_shapefile(grids), "application/zip")}
    form = {"effective_date": TODAY.isoformat(), "dry_run": "true"}
    counts = await registry_counts(gdb)

    dry = await admin.post("/api/v1/grids/import", files=upload, data=form)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] and report["grids"] == 2 and report["villages"] == [place["code"]]
    assert report["members"] == {f"{place['code']}901": member["id"]} and report["vacant"] == [f"{place['code']}902"]
    assert report["ended"] == len(before) and await registry_counts(gdb) == counts

    done = await admin.post("/api/v1/grids/import", files=upload, data={"effective_date": TODAY.isoformat()})
    assert done.status_code == 201, done.text
    assert done.json()["revision"] is not None
    assert await old_grids(gdb, place["code"]) == [g["网格编码"] for g in grids]
    kinds = await gdb.fetch(
        "SELECT kind FROM grids WHERE village_code = $1 AND valid_to IS NULL ORDER BY code", place["code"]
    )
    assert [r["kind"] for r in kinds] == ["urban", "rural"]
    case = await routed_to(admin, gdb, grids[0]["geometry"], f"{place['code']}901")
    assert case["assignee_id"] == member["id"]


async def test_open_cases_of_grids_an_import_ends_follow_their_location_to_the_new_grids(
    grid_stack: LiveStack, gdb: asyncpg.Pool, admin: httpx.AsyncClient
) -> None:
    place = await village(gdb, 5)
    before = await old_grids(gdb, place["code"])
    area = shapely.from_wkb(await gdb.fetchval("SELECT ST_AsBinary(geom) FROM grids WHERE code = $1", before[-1]))
    case = await routed_to(admin, gdb, area, before[-1])
    grids = await grid_table(gdb, place["code"], [None, None])
    upload = {"file": ("grids.geojson", as_geojson(grids), "application/geo+json")}
    done = await admin.post("/api/v1/grids/import", files=upload, data={"effective_date": TODAY.isoformat()})
    assert done.status_code == 201, done.text
    assert done.json()["open_cases_on_ended_codes"] >= 1

    spot = area.point_on_surface()
    lies_in = next(g["网格编码"] for g in grids if g["geometry"].covers(spot))

    async def carried() -> asyncpg.Record | None:
        row = await gdb.fetchrow("SELECT grid_code, assignee_id, version FROM cases WHERE id = $1", case["id"])
        return row if row is not None and row["grid_code"] == lies_in else None

    moved = await wait_for(carried, "the case carried to the new grid its location lies in", within=30)
    assert moved["assignee_id"] == f"duty-{place['code']}", "the new grid is vacant: the village's duty post has it"
    log = await gdb.fetch("SELECT payload FROM case_log WHERE case_id = $1 AND kind = 'transferred'", case["id"])
    transfers = [orjson.loads(r["payload"]) for r in log]
    assert [(t["reason"], t.get("plan_id")) for t in transfers] == [(f"网格调整: {before[-1]} → {lies_in}", None)]


async def test_a_broken_file_changes_nothing_and_names_the_grid(
    grid_stack: LiveStack, gdb: asyncpg.Pool, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    place = await village(gdb, 3)
    grids = await grid_table(gdb, place["code"], [None, None, None])
    grids[1]["geometry"] = shapely.union_all([grids[1]["geometry"], grids[2]["geometry"].buffer(-1e-4)])
    for suffix, part in as_shapefile(grids).items():  # on disk, without a .cpg: read as GBK
        (tmp_path / f"网格.{suffix}").write_bytes(part)
    counts = await registry_counts(gdb)

    refused = gridctl(grid_stack, "import-grids", str(tmp_path / "网格.shp"), "--effective", TODAY.isoformat())
    assert refused.returncode == 1 and "nothing imported" in refused.stderr
    assert f"grid {place['code']}902 overlaps grid {place['code']}903" in refused.stderr
    answer = await admin.post(
        "/api/v1/grids/import",
        files={"file": ("broken.geojson", as_geojson(grids), "application/geo+json")},
        data={"effective_date": TODAY.isoformat()},
    )
    assert answer.status_code == 422
    (fault,) = answer.json()["detail"]
    assert fault["loc"] == ["body", "file", "features", 1] and f"{place['code']}902 overlaps" in fault["msg"]
    assert await registry_counts(gdb) == counts
    assert gridctl(grid_stack, "check", COUNTY, "--on", TODAY.isoformat()).returncode == 0


async def test_another_townships_administrator_cannot_reach_the_villages(
    grid_stack: LiveStack, gdb: asyncpg.Pool
) -> None:
    place = await village(gdb, 4)
    other = await gdb.fetchval(
        "SELECT code FROM admin_units WHERE level = 'township' AND parent_code = $1 AND code <> $2"
        " ORDER BY code LIMIT 1",
        COUNTY,
        TOWNSHIP,
    )
    await gdb.execute(
        "INSERT INTO users (username, role, unit_code, password_hash) VALUES ('ops.b', 'admin', $1, $2)",
        other,
        demo_password_hash(),
    )
    grids = await grid_table(gdb, place["code"], [None, None])
    upload = {"file": ("grids.geojson", as_geojson(grids), "application/geo+json")}
    form = {"effective_date": TODAY.isoformat(), "dry_run": "true"}
    counts = await registry_counts(gdb)
    async with client_on(grid_stack, bearer(User("ops.b", Role.ADMIN, other, None, None))) as stranger:
        refused = await stranger.post("/api/v1/grids/import", files=upload, data=form)
        assert refused.status_code == 404, refused.text
        faults = refused.json()["detail"]
        assert [f["loc"] for f in faults] == [["body", "file", "features", 0], ["body", "file", "features", 1]]
        assert all(f["type"] == "not_found" and place["code"] in f["msg"] for f in faults)
        refused = await stranger.post("/api/v1/grids/import", files=upload, data={"effective_date": TODAY.isoformat()})
        assert refused.status_code == 404 and await registry_counts(gdb) == counts
    async with client_on(grid_stack, await as_person(gdb, f"disp-{TOWNSHIP}")) as dispatcher:
        assert (await dispatcher.post("/api/v1/grids/import", files=upload, data=form)).status_code == 403
    async with client_on(grid_stack, admin_headers()) as county_admin:
        assert (await county_admin.post("/api/v1/grids/import", files=upload, data=form)).status_code == 200
