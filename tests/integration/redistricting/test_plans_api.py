"""Plans and history over HTTP: a bad plan is refused naming its items and changes nothing; a merge of two villages
is applied, routes anew in the running processors, travels whole on the registry topic, and history answers."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from kafka import KafkaConsumer, TopicPartition

from core import topics
from core.cases import case_id_for_event
from core.plans import RedistrictingPlan
from core.queues import RegistryChange
from dispatch.clock import local_day
from streams.acls import ADMIN
from tests.integration.conftest import topic_name
from tests.integration.harness import LiveStack, login_as, wait_for
from tests.integration.helpers import event

TOWN = "510822107"  # a township no other test of the session touches
ACTOR: dict[str, str] = {}
TODAY = local_day(datetime.now(UTC))


def plan_body(plan_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A plan taking effect today."""
    return {
        "plan_id": plan_id,
        "county": "510822",
        "effective_date": TODAY.isoformat(),
        "legal_basis": "青府〔2026〕7号",
        "title": "测试：村合并",
        "items": items,
    }


async def registry_counts(db: asyncpg.Pool) -> tuple[int, ...]:
    row = await db.fetchrow(
        "SELECT (SELECT count(*) FROM admin_units) AS units, (SELECT count(*) FROM grids) AS grids,"
        " (SELECT count(*) FROM unit_lineage) AS lineage, (SELECT count(*) FROM redistricting_plans) AS plans,"
        " (SELECT count(*) FROM grid_posts) AS posts"
    )
    assert row is not None
    return tuple(row.values())


def plan_notices(ts: LiveStack, plan_id: str, within: float = 15.0) -> list[RegistryChange]:
    """The notices keyed `plan:<plan_id>` on this session's registry topic, every partition read from the beginning."""
    name = topic_name(ts, topics.REGISTRY.name)
    consumer = KafkaConsumer(
        bootstrap_servers=ts.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"),
        enable_auto_commit=False,
        **login_as(ADMIN),
    )
    found: list[RegistryChange] = []
    try:
        tps = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        deadline = time.monotonic() + within
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.key == f"plan:{plan_id}".encode():
                        found.append(RegistryChange.model_validate_json(record.value))
    finally:
        consumer.close()
    return found


async def test_a_bad_plan_is_refused_naming_each_item_and_changes_nothing(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    before = await registry_counts(db)
    bad = plan_body(
        "bad-http-plan",
        [
            {"op": "merge", "sources": [f"{TOWN}201"], "into": f"{TOWN}999"},
            {"op": "rename", "code": f"{TOWN}998", "name": "新村"},
        ],
    )
    for path, headers in (("/api/v1/plans/validate", {}), ("/api/v1/plans", ACTOR)):
        reply = await http.post(path, json=bad, headers=headers)
        assert reply.status_code == 422, reply.text
        detail = reply.json()["detail"]
        assert [d["loc"] for d in detail] == [["body", "items", 0], ["body", "items", 1]]
        assert detail[0]["msg"] == f"item 1 (merge): {TOWN}999 does not exist; give `name` to create it"
        assert detail[1]["msg"].startswith(f"item 2 (rename): unit {TOWN}998 does not exist")
    malformed = plan_body("bad-http-plan", [{"op": "merge", "sources": ["5108"], "into": f"{TOWN}201"}])
    reply = await http.post("/api/v1/plans/validate", json=malformed)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"][:4] == ["body", "items", 0, "merge"]
    reply = await http.post("/api/v1/plans", json=plan_body("bad-http-plan", [{"op": "rename", "code": TOWN}]))
    assert reply.status_code == 422
    assert {tuple(d["loc"]) for d in reply.json()["detail"]} >= {
        ("body", "items", 0, "rename", "name"),
    }
    assert await registry_counts(db) == before
    assert "bad-http-plan" not in {p["plan_id"] for p in (await http.get("/api/v1/plans")).json()}


async def _routed_grid(http: httpx.AsyncClient, db: asyncpg.Pool, lon: float, lat: float) -> str:
    body = event(lon=lon, lat=lat)
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    grid: str = await wait_for(lambda: db.fetchval("SELECT grid_code FROM cases WHERE id = $1", case_id), "case")
    return grid


async def test_a_merge_applied_over_http_routes_anew_travels_on_the_topic_and_history_answers(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    keep, gone = [
        r["village_code"]
        for r in await db.fetch(
            "SELECT DISTINCT village_code FROM grids WHERE township_code = $1 AND valid_to IS NULL"
            " ORDER BY village_code LIMIT 2",
            TOWN,
        )
    ]
    old = await db.fetchrow(
        "SELECT g.code, ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
        " WHERE g.village_code = $1 AND g.valid_to IS NULL ORDER BY g.code LIMIT 1",
        gone,
    )
    assert old is not None
    spot = {"lon": old["lon"], "lat": old["lat"]}
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    was = (await http.get("/api/v1/history/point", params={**spot, "on": yesterday})).json()
    assert was["grid_code"] == old["code"] and was["member"]["id"] == f"gm-{old['code']}"
    plan = plan_body(f"merge-{gone}", [{"op": "merge", "sources": [gone], "into": keep, "note": "两村合并"}])
    before = await registry_counts(db)

    checked = await http.post("/api/v1/plans/validate", json=plan)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True and checked.json()["lineage"]["village merged_into"] == 1
    assert await registry_counts(db) == before

    applied = await http.post("/api/v1/plans", json=plan, headers=ACTOR)
    assert applied.status_code == 201, applied.text
    summary = applied.json()
    assert summary["applied_by"] == "admin" and summary["plan_id"] == plan["plan_id"]
    assert summary["grids_changed"] == summary["lineage"]["grid recoded_to"] > 0
    assert (await http.post("/api/v1/plans", json=plan, headers=ACTOR)).status_code == 409
    listed = {p["plan_id"]: p for p in (await http.get("/api/v1/plans")).json()}
    assert listed[plan["plan_id"]]["applied_by"] == "admin" and listed[plan["plan_id"]]["items"] == 1
    stored = (await http.get(f"/api/v1/plans/{plan['plan_id']}")).json()
    assert RedistrictingPlan.model_validate(stored) == RedistrictingPlan.model_validate(plan)
    assert (await http.get("/api/v1/plans/no-such-plan")).status_code == 404

    became = (await http.get(f"/api/v1/history/code/{gone}")).json()
    assert became["successors"] == [
        {
            "code": keep,
            "kind": "merged_into",
            "plan_id": plan["plan_id"],
            "effective_date": TODAY.isoformat(),
            "depth": 1,
        }
    ]
    grid_became = (await http.get(f"/api/v1/history/code/{old['code']}")).json()["successors"]
    assert [(s["kind"], s["code"][:12]) for s in grid_became] == [("recoded_to", keep)]
    new_code: str = grid_became[0]["code"]
    assert (await http.get(f"/api/v1/history/code/{keep}")).json()["successors"] == []
    assert (await http.get("/api/v1/history/code/510822999999")).status_code == 404
    assert (await http.get("/api/v1/history/code/abc")).status_code == 422
    now = (await http.get("/api/v1/history/point", params={**spot, "on": TODAY.isoformat()})).json()
    assert now["grid_code"] == new_code and now["village_code"] == keep
    assert now["member"]["id"] == was["member"]["id"]  # the member moved with the grid
    reply = await http.get("/api/v1/history/point", params={"lon": 0, "lat": 0, "on": TODAY.isoformat()})
    assert reply.status_code == 404
    reply = await http.get("/api/v1/history/point", params={**spot, "on": "2026-13-01"})
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["query", "on"]

    async def routed_to_new_grid() -> bool:
        return await _routed_grid(http, db, old["lon"], old["lat"]) == new_code

    await wait_for(routed_to_new_grid, "the processors to route into the merged village", within=20)

    notices = await asyncio.to_thread(plan_notices, live_stack, plan["plan_id"])
    assert notices, "no plan notice on the registry topic"
    assert notices[0].reason == f"plan {plan['plan_id']} applied by admin" and notices[0].revision > 0
    expected = RedistrictingPlan.model_validate(plan)
    assert all(n.plan == expected for n in notices)  # the 409 above announced it again, whole
