"""Redistricting on real data: 青川县 from its 2019 list (37 townships) to its 2020 list (21), with open cases
carried to the successors while events keep flowing."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import pytest_asyncio

from core.cases import case_id_for_event
from dispatch.clock import local_day
from dispatch.geometry.synthetic import read_divisions
from dispatch.routing.snapshot_store import load_snapshot
from tests.integration.auth import admin_headers
from tests.integration.conftest import running_stack
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, pool_on, scratch_stack, wait_for
from tests.integration.helpers import event

DATA = ROOT / "dispatch" / "data" / "guangyuan"
COUNTY = "510822"
MERGED = "510822200"  # 黄坪乡, merged into 乔庄镇 (510822100) by the plan
SUCCESSOR = "510822100"
TODAY = local_day(datetime.now(UTC))


def gridctl(ts: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run gridctl in the stack's environment, returning whatever it did."""
    return subprocess.run([str(VENV_BIN / "gridctl"), *args], env=ts.env, cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def registry_stack() -> Iterator[LiveStack]:
    """青川县 on its 2019 list, with rules, people and the product running; transfers checked every second."""
    with running_stack(
        ["demo", "load", "--no-notify", "--divisions", str(DATA / "divisions-2019.csv"), "--valid-from", "2000-01-01"],
        extra_env={"GRID_TRANSFER_CHECK_SECONDS": "1"},
    ) as ts:
        yield ts


@pytest.fixture(scope="module")
def plan_file(registry_stack: LiveStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plan built from the two real lists, taking effect today."""
    built = gridctl(
        registry_stack,
        "plan",
        "build",
        "--county",
        COUNTY,
        "--before",
        str(DATA / "divisions-2019.csv"),
        "--after",
        str(DATA / "divisions-2020.csv"),
        "--effective",
        TODAY.isoformat(),
        "--basis",
        "广府〔2019〕118号",
        "--plan-id",
        "qingchuan-merger",
    )
    assert built.returncode == 0, built.stderr
    path = tmp_path_factory.mktemp("plans") / "qingchuan.json"
    path.write_text(built.stdout)
    return path


@pytest_asyncio.fixture(scope="module")
async def rdb(registry_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    async with pool_on(registry_stack) as pool:
        yield pool


async def registry_counts(db: asyncpg.Pool) -> tuple[int, int, int]:
    row = await db.fetchrow(
        "SELECT (SELECT count(*) FROM admin_units) AS units, (SELECT count(*) FROM grids) AS grids,"
        " (SELECT count(*) FROM unit_lineage) AS lineage"
    )
    assert row is not None
    return row["units"], row["grids"], row["lineage"]


async def test_a_bad_plan_is_refused_naming_the_item_and_changes_nothing(
    registry_stack: LiveStack, rdb: asyncpg.Pool, tmp_path: Path
) -> None:
    before = await registry_counts(rdb)
    bad = tmp_path / "bad.json"
    plan = {
        "plan_id": "bad-plan",
        "county": COUNTY,
        "effective_date": TODAY.isoformat(),
        "legal_basis": "测试",
        "items": [
            {"op": "merge", "sources": ["510822100201"], "into": "510822100999"},
            {"op": "merge", "sources": ["510822999201"], "into": "510822100201"},
        ],
    }
    bad.write_bytes(orjson.dumps(plan))
    done = gridctl(registry_stack, "plan", "apply", str(bad), "--by", "tester")
    assert done.returncode == 1
    assert "item 1 (merge): 510822100999 does not exist; give `name` to create it" in done.stderr
    assert "item 2 (merge): unit 510822999201 does not exist" in done.stderr
    assert await registry_counts(rdb) == before


async def test_a_bad_division_file_is_refused_by_line_and_changes_nothing(
    registry_stack: LiveStack, rdb: asyncpg.Pool, tmp_path: Path
) -> None:
    before = await registry_counts(rdb)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent_code\n510822,青川县,county,510800\n51082210,乔庄镇,township,510822\n")
    done = gridctl(registry_stack, "generate", str(bad), "--no-notify")
    assert done.returncode == 1
    assert "line 3: township code '51082210' must have 9 digits" in done.stderr
    assert "line 2: parent '510800' of 510822 is not a city in the file" in done.stderr
    assert await registry_counts(rdb) == before


async def _case_in(db: asyncpg.Pool, http: httpx.AsyncClient, township: str, offset: int, **fields: Any) -> uuid.UUID:
    row = await db.fetchrow(
        "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
        " WHERE g.township_code = $1 ORDER BY g.code OFFSET $2 LIMIT 1",
        township,
        offset,
    )
    assert row is not None
    body = event(lon=row["lon"], lat=row["lat"], **fields)
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    await wait_for(lambda: db.fetchval("SELECT 1 FROM cases WHERE id = $1", case_id), f"case of {township}")
    return case_id


async def test_applying_the_real_plan_moves_open_cases_once_while_events_flow(
    registry_stack: LiveStack, rdb: asyncpg.Pool, plan_file: Path
) -> None:
    async with httpx.AsyncClient(base_url=registry_stack.base_url, timeout=15, headers=admin_headers()) as http:
        member_case = await _case_in(rdb, http, MERGED, 0)
        team_case = await _case_in(rdb, http, MERGED, 1, type="enforcement_lead", category="illegal_construction")
        agency_case = await _case_in(rdb, http, MERGED, 2, category="market")
        posted: list[str] = []
        flowing = asyncio.Event()

        async def keep_posting() -> None:
            points = await rdb.fetch(
                "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
                " WHERE g.valid_to IS NULL ORDER BY g.code"
            )
            n = 0
            while not flowing.is_set():
                spot = points[(n * 37) % len(points)]
                body = event(lon=spot["lon"], lat=spot["lat"])
                reply = await http.post("/api/v1/events", json=body)
                assert reply.status_code == 202, reply.text
                posted.append(body["event_id"])
                n += 1
                await asyncio.sleep(0.05)

        poster = asyncio.create_task(keep_posting())
        await wait_for(lambda: _truthy(len(posted) > 5), "events to start flowing")
        applied = await asyncio.to_thread(gridctl, registry_stack, "plan", "apply", str(plan_file), "--by", "tester")
        assert applied.returncode == 0, applied.stderr
        await wait_for(lambda: _truthy(len(posted) > 60), "more events after the plan")
        flowing.set()
        await poster

    async def moved(case_id: uuid.UUID) -> asyncpg.Record | None:
        row = await rdb.fetchrow("SELECT * FROM cases WHERE id = $1", case_id)
        return row if row is not None and row["township_code"] == SUCCESSOR else None

    member_row = await wait_for(lambda: moved(member_case), "the grid member's case to move", within=30)
    team_row = await wait_for(lambda: moved(team_case), "the enforcement case to move", within=30)
    agency_row = await wait_for(lambda: moved(agency_case), "the agency case to move", within=30)
    assert team_row["assignee_id"] == f"enf-{SUCCESSOR}"
    assert agency_row["assignee_id"] == f"market-{SUCCESSOR}"
    assert member_row["state"] == "dispatched" and member_row["assignee_kind"] == "grid_member"
    new_grid = await rdb.fetchrow("SELECT * FROM grids WHERE code = $1 AND valid_to IS NULL", member_row["grid_code"])
    assert new_grid is not None and new_grid["township_code"] == SUCCESSOR
    member = await rdb.fetchval(
        "SELECT person_id FROM grid_posts WHERE grid_code = $1 AND valid_to IS NULL", member_row["grid_code"]
    )
    assert member_row["assignee_id"] == member
    for case_id in (member_case, team_case, agency_case):
        log = await rdb.fetch("SELECT kind, payload FROM case_log WHERE case_id = $1 ORDER BY seq", case_id)
        assert [r["kind"] for r in log] == ["registered", "dispatched", "transferred"]
        transfer = orjson.loads(log[-1]["payload"])
        assert transfer["plan_id"] == "qingchuan-merger"
        assert transfer["from"]["township_code"] == MERGED

    ids = [case_id_for_event(uuid.UUID(e)) for e in posted]

    async def all_cased() -> bool:
        return bool(await rdb.fetchval("SELECT count(*) FROM cases WHERE id = ANY($1::uuid[])", ids) == len(ids))

    await wait_for(all_cased, "a case for every event posted during the change", within=60)

    async def none_stranded() -> bool:
        left = await rdb.fetchval(
            "SELECT count(*) FROM cases c WHERE c.state NOT IN ('closed','cancelled') AND NOT EXISTS ("
            " SELECT 1 FROM grids g WHERE g.code = c.grid_code AND g.valid_to IS NULL)"
        )
        return bool(left == 0)

    await wait_for(none_stranded, "no open case left in an abolished grid", within=30)
    assert await rdb.fetchval("SELECT count(*) FROM cases WHERE id = ANY($1::uuid[])", ids) == len(set(ids))


async def test_after_the_plan_the_registry_matches_the_2020_list(rdb: asyncpg.Pool) -> None:
    after = {
        d.code: d.name
        for d in read_divisions(DATA / "divisions-2020.csv")
        if d.code.startswith(COUNTY) and d.level in ("township", "village")
    }
    rows = await rdb.fetch(
        "SELECT code, name FROM admin_units WHERE level IN ('township','village') AND left(code, 6) = $1"
        " AND valid_to IS NULL",
        COUNTY,
    )
    assert {r["code"]: r["name"] for r in rows} == after
    assert sum(1 for c in after if len(c) == 9) == 21


async def test_routing_a_point_before_and_after_the_effective_date(rdb: asyncpg.Pool) -> None:
    old = await rdb.fetchrow(
        "SELECT g.code, ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
        " WHERE g.township_code = $1 AND g.valid_to IS NOT NULL ORDER BY g.code LIMIT 1",
        MERGED,
    )
    assert old is not None
    snapshot = await load_snapshot(rdb, TODAY)
    before = snapshot.index.locate(old["lon"], old["lat"], TODAY - timedelta(days=1))
    after = snapshot.index.locate(old["lon"], old["lat"], TODAY)
    assert before is not None and before.code == old["code"] and before.township_code == MERGED
    assert after is not None and after.township_code == SUCCESSOR and after.code != old["code"]
    assert snapshot.index.current(old["code"], TODAY) == after


async def test_history_answers_who_was_responsible_and_what_a_code_became(registry_stack: LiveStack) -> None:
    became = gridctl(registry_stack, "history", "code", MERGED)
    assert became.returncode == 0 and f'"code": "{SUCCESSOR}"' in became.stdout + became.stderr
    assert "merged_into" in became.stdout + became.stderr


def test_both_guangyuan_lists_import_and_tile_in_every_county() -> None:
    with scratch_stack() as ts:
        ts.run(str(VENV_BIN / "gridctl"), "migrate")
        counties = sorted(d.code for d in read_divisions(DATA / "divisions-2019.csv") if d.level == "county")
        assert len(counties) == 7
        for year in ("2019", "2020"):
            made = gridctl(ts, "generate", str(DATA / f"divisions-{year}.csv"), "--no-notify")
            assert made.returncode == 0, made.stderr
            for county in counties:
                checked = gridctl(ts, "check", county)
                assert checked.returncode == 0, checked.stderr
                listed = gridctl(ts, "rules", "list", "--unit", county)
                assert (listed.stdout + listed.stderr).count(f" {county} ") >= 4, listed  # generated with its rules


async def _truthy(value: bool) -> bool:
    return value


def test_boundaries_import_from_geojson_and_shapefile_as_new_versions(tmp_path: Path) -> None:
    import shapefile
    import shapely
    from shapely.geometry import mapping

    from dispatch.geometry.synthetic import load_county_outline

    with scratch_stack() as ts:
        ts.run(str(VENV_BIN / "gridctl"), "migrate")
        ts.run(
            str(VENV_BIN / "gridctl"), "generate", str(DATA / "divisions-2020.csv"), "--county", COUNTY, "--no-notify"
        )
        outline = load_county_outline(DATA / "counties.geojson", COUNTY)
        geojson = tmp_path / "county.geojson"
        geojson.write_bytes(
            orjson.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [{"type": "Feature", "properties": {"code": COUNTY}, "geometry": mapping(outline)}],
                }
            )
        )
        bowtie = {"type": "Polygon", "coordinates": [[[105, 32], [105.1, 32.1], [105.1, 32], [105, 32.1], [105, 32]]]}
        bad = tmp_path / "bad.geojson"
        bad.write_bytes(
            orjson.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {"type": "Feature", "properties": {"code": COUNTY}, "geometry": mapping(outline)},
                        {"type": "Feature", "properties": {"code": "510822100"}, "geometry": bowtie},
                    ],
                }
            )
        )
        refused = gridctl(ts, "import-boundaries", str(bad), "--valid-from", "2021-01-01", "--no-notify")
        assert refused.returncode == 1 and "feature 2 (510822100): invalid polygon" in refused.stderr
        done = gridctl(ts, "import-boundaries", str(geojson), "--valid-from", "2021-01-01", "--no-notify")
        assert done.returncode == 0, done.stderr
        town = shapely.box(105.0, 32.3, 105.2, 32.5)
        with shapefile.Writer(str(tmp_path / "towns"), shapeType=shapefile.POLYGON) as shp:
            shp.field("code", "C", size=12)
            shp.shape(mapping(town))
            shp.record("510822100")
        done = gridctl(
            ts, "import-boundaries", str(tmp_path / "towns.shp"), "--valid-from", "2021-01-01", "--no-notify"
        )
        assert done.returncode == 0, done.stderr
        exported = gridctl(ts, "export", "township", "--county", COUNTY)
        features = {f["properties"]["code"]: f for f in orjson.loads(exported.stdout)["features"]}
        assert len(features) == 21
        assert abs(shapely.geometry.shape(features["510822100"]["geometry"]).area - town.area) < 1e-9
        assert features["510822100"]["properties"]["synthetic"] is False
        assert features["510822101"]["properties"]["synthetic"] is True
        before = gridctl(ts, "export", "township", "--county", COUNTY, "--on", "2020-06-01")
        old = orjson.loads(before.stdout)["features"]
        assert len(old) == 21 and all(f["properties"]["synthetic"] for f in old)
