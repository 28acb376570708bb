"""Plans that cut grids and plans that stack, on the real stack: every piece of a cut grid stays a grid (the county
still tiles, history answers on both sides, new events route); a plan lands on the registry every applied plan
made, refused naming the conflict when stale or out of order; a future plan leaves today's routing alone; counts
are exact; a transfer names the plan of its own county."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import pytest_asyncio
import shapely
from shapely.geometry import mapping

from core.cases import case_id_for_event
from core.plans import RedistrictingPlan
from dispatch.clock import local_day
from dispatch.redistricting import store as plan_store
from dispatch.redistricting.validate import PlanInvalid
from tests.conftest import SESSION_ENV
from tests.integration.conftest import running_stack
from tests.integration.harness import ROOT, LiveStack, pool_on, wait_for
from tests.integration.helpers import event
from tests.integration.redistricting.test_redistricting import gridctl

COUNTY, OTHER = "510822", "510812"  # 青川县 (the demo county) and 朝天区, both on their 2020 lists
MERGING, CUTTING, LATER = "510822108", "510822109", "510822111"  # townships each test has to itself
TODAY = local_day(datetime.now(UTC))
YESTERDAY, TOMORROW = TODAY - timedelta(days=1), TODAY + timedelta(days=1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    """The demo county and a second county, with the product running; transfers looked for every second."""
    divisions = str(ROOT / "dispatch" / "data" / "guangyuan" / "divisions-2020.csv")
    with running_stack(
        ["demo", "load", "--no-notify"],
        ["generate", divisions, "--county", OTHER, "--no-notify"],
        extra_env={**SESSION_ENV, "GRID_TRANSFER_CHECK_SECONDS": "1"},  # events at one spot are not duplicates
    ) as ts:
        yield ts


@pytest_asyncio.fixture(scope="module")
async def sdb(stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    async with pool_on(stack) as pool:
        yield pool


def plan(plan_id: str, day: Any, *items: dict[str, Any], county: str = COUNTY) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "county": county,
        "effective_date": day.isoformat(),
        "legal_basis": "青府〔2026〕9号",
        "items": list(items),
    }


async def villages(db: asyncpg.Pool, township: str) -> list[str]:
    rows = await db.fetch(
        "SELECT code FROM admin_units WHERE parent_code = $1 AND level = 'village' AND valid_to IS NULL ORDER BY code",
        township,
    )
    return [r["code"] for r in rows]


async def registry_counts(db: asyncpg.Pool) -> tuple[int, ...]:
    row = await db.fetchrow(
        "SELECT (SELECT count(*) FROM admin_units) AS units, (SELECT count(*) FROM grids) AS grids,"
        " (SELECT count(*) FROM unit_lineage) AS lineage, (SELECT count(*) FROM redistricting_plans) AS plans"
    )
    assert row is not None
    return tuple(row.values())


async def spot_in(db: asyncpg.Pool, village: str) -> dict[str, float]:
    row = await db.fetchrow(
        "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
        " WHERE g.village_code = $1 AND g.valid_to IS NULL ORDER BY g.code LIMIT 1",
        village,
    )
    assert row is not None
    return {"lon": row["lon"], "lat": row["lat"]}


async def routed(http: httpx.AsyncClient, db: asyncpg.Pool, spot: dict[str, float]) -> tuple[uuid.UUID, str]:
    """Post an event at the spot; the case it opened and the grid it was routed to."""
    body = event(**spot)
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    grid: str = await wait_for(lambda: db.fetchval("SELECT grid_code FROM cases WHERE id = $1", case_id), "a case")
    return case_id, grid


async def test_a_stale_plan_is_refused_and_a_transfer_names_its_own_countys_plan(
    admin: httpx.AsyncClient, sdb: asyncpg.Pool
) -> None:
    keep, gone = (await villages(sdb, MERGING))[:2]
    case_id, _ = await routed(admin, sdb, await spot_in(sdb, gone))
    rename_gone = plan("rename-gone", YESTERDAY, {"op": "rename", "code": gone, "name": "复活村"})
    rename_keep = plan("rename-keep", YESTERDAY, {"op": "rename", "code": keep, "name": "新名村"})
    checked = await admin.post("/api/v1/plans/validate", json=rename_keep)
    assert checked.status_code == 200, checked.text
    assert checked.json()["units_changed"] == 1 and checked.json()["grids_changed"] == 0
    seen = checked.json()["registry_revision"]
    assert (await admin.post("/api/v1/plans/validate", json=rename_gone)).status_code == 200

    other_village = (await villages(sdb, f"{OTHER}100"))[0]
    elsewhere = plan("other-county", TODAY, {"op": "rename", "code": other_village, "name": "别处村"}, county=OTHER)
    assert (await admin.post("/api/v1/plans", json=elsewhere)).status_code == 201
    merge = plan("merge-first", YESTERDAY, {"op": "merge", "sources": [gone], "into": keep})
    applied = await admin.post("/api/v1/plans", json=merge)
    assert applied.status_code == 201, applied.text
    moved = await sdb.fetchval("SELECT count(*) FROM grids WHERE village_code = $1 AND valid_to IS NULL", gone)
    assert moved == 0
    summary = applied.json()
    assert (summary["units_changed"], summary["units_ended"], summary["units_started"]) == (2, 2, 1)
    assert summary["grids_changed"] == summary["grids_started"] == summary["lineage"]["grid recoded_to"] > 0
    assert summary["cases_to_move"] >= 1 and summary["people_changed"] >= summary["grids_changed"]

    before = await registry_counts(sdb)
    stale = await admin.post("/api/v1/plans", json=rename_keep, params={"registry_revision": seen})
    assert stale.status_code == 409, stale.text
    assert f"validated against registry revision {seen}" in stale.json()["detail"]
    assert "other-county" in stale.json()["detail"] or "merge-first" in stale.json()["detail"]
    refused = await admin.post("/api/v1/plans", json=rename_gone)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == [
        {
            "loc": ["body", "items", 0],
            "msg": f"item 1 (rename): unit {gone} no longer exists on the plan's date: merged_into {keep} by plan"
            f" merge-first on {YESTERDAY}",
            "type": "plan_invalid",
        }
    ]
    assert await registry_counts(sdb) == before
    assert await sdb.fetchval("SELECT count(*) FROM admin_units WHERE code = $1 AND valid_to IS NULL", gone) == 0

    async def transferred() -> dict[str, Any] | None:
        payload = await sdb.fetchval(
            "SELECT payload FROM case_log WHERE case_id = $1 AND kind = 'transferred'", case_id
        )
        return None if payload is None else orjson.loads(payload)

    transfer = await wait_for(transferred, "the case of the merged village to move", within=30)
    assert transfer["plan_id"] == "merge-first"  # not other-county, the newest plan in effect


async def test_a_cutting_plan_keeps_every_piece_and_the_county_still_tiles(
    stack: LiveStack, admin: httpx.AsyncClient, sdb: asyncpg.Pool
) -> None:
    border = await sdb.fetchrow(
        "SELECT g.code, g.village_code AS source, t.code AS target, ST_AsBinary(g.geom) AS grid,"
        " ST_AsBinary(t.geom) AS target_geom FROM grids g JOIN admin_units t ON t.parent_code = g.township_code"
        " AND t.level = 'village' AND t.valid_to IS NULL AND t.code <> g.village_code"
        " WHERE g.township_code = $1 AND g.valid_to IS NULL"
        " ORDER BY ST_Length(ST_Intersection(ST_Boundary(g.geom), ST_Boundary(t.geom))) DESC LIMIT 1",
        CUTTING,
    )
    assert border is not None
    cut, grid, source, target = border["code"], shapely.from_wkb(border["grid"]), border["source"], border["target"]
    size = (grid.area**0.5) * 0.3
    area = shapely.intersection(grid, shapely.from_wkb(border["target_geom"]).buffer(size))
    area = max(getattr(area, "geoms", [area]), key=lambda g: g.area)  # one polygon of the strip along the border
    rest = grid.difference(area.buffer(size * 0.1))
    assert 0 < area.area < grid.area * 0.9 and rest.area > 0
    inside, remainder = area.representative_point(), rest.representative_point()
    moving, _ = await routed(admin, sdb, {"lon": inside.x, "lat": inside.y})
    staying, _ = await routed(admin, sdb, {"lon": remainder.x, "lat": remainder.y})
    body = plan("cut-grid", TODAY, {"op": "transfer_part", "source": source, "target": target, "area": mapping(area)})
    checked = await admin.post("/api/v1/plans/validate", json=body)
    assert checked.status_code == 200, checked.text
    applied = await admin.post(
        "/api/v1/plans", json=body, params={"registry_revision": checked.json()["registry_revision"]}
    )
    assert applied.status_code == 201, applied.text
    summary = applied.json()
    assert (summary["units_changed"], summary["grids_changed"], summary["grids_started"]) == (2, 1, 2)
    assert summary["cases_to_move"] == 1  # the case in the piece cut away; the remainder's stays
    assert summary["lineage"] == {"grid split_into": 2, "village part_transferred_to": 1}

    checked_tiling = gridctl(stack, "check", COUNTY)
    assert checked_tiling.returncode == 0, checked_tiling.stdout + checked_tiling.stderr
    pieces = (await admin.get(f"/api/v1/history/code/{cut}")).json()["successors"]
    assert [(p["kind"], p["code"][:12]) for p in pieces] == [("split_into", target)]
    piece = pieces[0]["code"]
    today = TODAY.isoformat()
    moved = await admin.get("/api/v1/history/point", params={"lon": inside.x, "lat": inside.y, "on": today})
    kept = await admin.get("/api/v1/history/point", params={"lon": remainder.x, "lat": remainder.y, "on": today})
    assert moved.status_code == 200 and moved.json()["grid_code"] == piece and moved.json()["village_code"] == target
    assert kept.status_code == 200 and kept.json()["grid_code"] == cut and kept.json()["village_code"] == source
    before = await admin.get("/api/v1/history/point", params={"lon": inside.x, "lat": inside.y, "on": str(YESTERDAY)})
    assert before.json()["grid_code"] == cut

    async def transferred() -> asyncpg.Record | None:
        return await sdb.fetchrow(
            "SELECT c.grid_code, l.payload FROM cases c JOIN case_log l ON l.case_id = c.id AND l.kind = 'transferred'"
            " WHERE c.id = $1",
            moving,
        )

    moved_case = await wait_for(transferred, "the case in the piece cut away to follow it", within=30)
    assert moved_case["grid_code"] == piece and orjson.loads(moved_case["payload"])["plan_id"] == "cut-grid"
    assert await sdb.fetchval("SELECT grid_code FROM cases WHERE id = $1", staying) == cut
    assert not await sdb.fetchval("SELECT 1 FROM case_log WHERE case_id = $1 AND kind = 'transferred'", staying)

    async def routes_to(spot: Any, grid_code: str) -> bool:
        return (await routed(admin, sdb, {"lon": spot.x, "lat": spot.y}))[1] == grid_code

    await wait_for(lambda: routes_to(inside, piece), "an event in the moved piece to route to it", within=20)
    assert await routes_to(remainder, cut), "an event in the remainder routes to the grid that kept its code"


async def test_a_future_plan_leaves_todays_routing_and_later_plans_stack_on_it(
    admin: httpx.AsyncClient, sdb: asyncpg.Pool
) -> None:
    keep, gone, other = (await villages(sdb, LATER))[:3]
    spot = await spot_in(sdb, gone)
    old_grid = await sdb.fetchval(
        "SELECT code FROM grids WHERE village_code = $1 AND valid_to IS NULL ORDER BY code LIMIT 1", gone
    )
    future = plan("future-merge", TOMORROW, {"op": "merge", "sources": [gone], "into": keep})
    assert (await admin.post("/api/v1/plans", json=future)).status_code == 201
    _, grid_today = await routed(admin, sdb, spot)
    assert grid_today == old_grid  # today's routing goes on until the plan takes effect
    tomorrow = await admin.get("/api/v1/history/point", params={**spot, "on": TOMORROW.isoformat()})
    assert tomorrow.json()["village_code"] == keep

    before = await registry_counts(sdb)
    late = plan("today-fix", TODAY, {"op": "rename", "code": other, "name": "晚到村"})
    refused = await admin.post("/api/v1/plans", json=late)
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(
        f"out of order: plan future-merge of county {COUNTY} already takes effect on {TOMORROW}, after {TODAY}"
    )
    same_day = plan("same-day", TOMORROW, {"op": "rename", "code": keep, "name": "同日村"})
    clash = await admin.post("/api/v1/plans/validate", json=same_day)
    assert clash.status_code == 409 and keep in clash.json()["detail"] and "future-merge" in clash.json()["detail"]
    assert await registry_counts(sdb) == before

    rename = plan("rename-one", TOMORROW, {"op": "rename", "code": other, "name": "改名村"})
    applied = await admin.post("/api/v1/plans", json=rename)
    assert applied.status_code == 201, applied.text
    counts = {k: applied.json()[k] for k in ("units_changed", "grids_changed", "cases_to_move", "people_changed")}
    assert counts == {"units_changed": 1, "grids_changed": 0, "cases_to_move": 0, "people_changed": 0}
    assert await registry_counts(sdb) == (before[0] + 1, before[1], before[2] + 1, before[3] + 1)


async def test_the_check_after_writing_names_the_gap_and_the_plan_keeps_nothing(sdb: asyncpg.Pool) -> None:
    checked = RedistrictingPlan.model_validate(
        plan("after-write", TOMORROW, {"op": "rename", "code": COUNTY + "100201", "name": "x村"})
    )
    async with sdb.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            gone = await conn.fetchrow(
                "UPDATE grids SET valid_to = $1 WHERE code = (SELECT min(code) FROM grids WHERE township_code = $2"
                " AND valid_to IS NULL) RETURNING code, village_code",
                TOMORROW,
                f"{COUNTY}100",
            )
            assert gone is not None
            with pytest.raises(PlanInvalid) as refused:
                await plan_store.refuse_broken_tiling(conn, checked)
        finally:
            await tx.rollback()
    assert any(
        e.startswith(f"after writing, {COUNTY} does not tile on {TOMORROW} (nothing kept): {gone['village_code']} has")
        and "covered by none of its children" in e
        for e in refused.value.errors
    ), refused.value.errors
