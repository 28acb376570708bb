"""Routing rules are data: changed through the API, audited, and used by the running processors at once."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from core.cases import case_id_for_event
from tests.integration.harness import LiveStack, wait_for
from tests.integration.helpers import event


async def _last_township_point(db: asyncpg.Pool) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT g.township_code, ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g"
        " CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p ORDER BY g.code DESC LIMIT 1"
    )
    assert row is not None
    return row


async def _routed(http: httpx.AsyncClient, db: asyncpg.Pool, lon: float, lat: float) -> asyncpg.Record:
    body = event(lon=lon, lat=lat, category="road")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    row: asyncpg.Record = await wait_for(lambda: db.fetchrow("SELECT * FROM cases WHERE id = $1", case_id), "case")
    return row


async def test_a_township_override_added_through_the_api_routes_the_next_event(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    spot = await _last_township_point(db)
    town = spot["township_code"]
    assert (await _routed(http, db, spot["lon"], spot["lat"]))["assignee_kind"] == "grid_member"

    rule = {
        "unit_code": town,
        "position": 1,
        "category": "road",
        "target": "team",
        "sla_hours": 12,
        "note": "道路设施由执法队处置",
    }
    refused = await http.post("/api/v1/rules", json=rule, headers={"Authorization": ""})
    assert refused.status_code == 401
    bad = await http.post("/api/v1/rules", json={**rule, "target": "agency"})
    assert bad.status_code == 422 and "agency_type" in bad.text
    added = await http.post("/api/v1/rules", json=rule)
    assert added.status_code == 201
    rule_id = added.json()["id"]
    try:

        async def overridden() -> asyncpg.Record | None:
            row = await _routed(http, db, spot["lon"], spot["lat"])
            return row if row["assignee_kind"] == "team" else None

        case = await wait_for(overridden, "the processors to use the new rule without a restart", within=20)
        assert case["assignee_id"] == f"enf-{town}" and case["rule_id"] == rule_id
        listed = (await http.get("/api/v1/rules", params={"unit": town})).json()
        assert [r["id"] for r in listed] == [rule_id]
    finally:
        retired = await http.delete(f"/api/v1/rules/{rule_id}")
        assert retired.status_code == 204
    assert (await http.delete(f"/api/v1/rules/{rule_id}")).status_code == 404
    trail = [c for c in (await http.get("/api/v1/rules/changes")).json() if c["rule_id"] == rule_id]
    assert [c["action"] for c in trail] == ["retire", "create"]
    assert {c["changed_by"] for c in trail} == {"admin"}

    async def back_to_default() -> asyncpg.Record | None:
        row = await _routed(http, db, spot["lon"], spot["lat"])
        return row if row["assignee_kind"] == "grid_member" else None

    await wait_for(back_to_default, "routing to fall back to the county default", within=20)


async def test_a_vacant_grid_is_listed_and_its_cases_go_to_the_duty_post(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    grid = await db.fetchrow(
        "SELECT g.code, g.village_code, ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g"
        " CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p ORDER BY g.code DESC OFFSET 5 LIMIT 1"
    )
    assert grid is not None
    assert grid["code"] not in {g["code"] for g in (await http.get("/api/v1/grids/vacant")).json()}
    await db.execute(
        "UPDATE grid_posts SET valid_to = (now() AT TIME ZONE 'Asia/Shanghai')::date WHERE grid_code = $1",
        grid["code"],
    )
    await http.post(
        "/api/v1/rules",
        json={"unit_code": "510822", "position": 99999, "category": "other", "target": "grid_member", "sla_hours": 48},
    )
    vacant = {g["code"]: g for g in (await http.get("/api/v1/grids/vacant")).json()}
    assert vacant[grid["code"]]["fallback"] == "village duty post"
    assert vacant[grid["code"]]["fallback_id"] == f"duty-{grid['village_code']}"

    async def to_duty_post() -> asyncpg.Record | None:
        row = await _routed(http, db, grid["lon"], grid["lat"])
        return row if row["assignee_id"] == f"duty-{grid['village_code']}" else None

    await wait_for(to_duty_post, "a case in the vacant grid to reach the village duty post", within=20)
