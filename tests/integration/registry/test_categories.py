"""Categories as data on the running stack: the table over HTTP, a rule naming a 大类 routing an old phone's legacy
value and a new phone's 小类 alike, the intake refusing a code the table lacks, the case list and metrics by 大类."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from core.cases import case_id_for_event
from tests.integration.auth import as_person
from tests.integration.harness import LiveStack, wait_for
from tests.integration.helpers import event


async def _township_points(db: asyncpg.Pool) -> tuple[str, list[asyncpg.Record]]:
    """A township in the middle of the demo county and a point in each of its grids, with the grid's member."""
    town = await db.fetchval(
        "SELECT township_code FROM grids GROUP BY township_code HAVING count(*) >= 6 ORDER BY township_code"
        " OFFSET 2 LIMIT 1"
    )
    rows = await db.fetch(
        "SELECT g.code, ST_X(p) AS lon, ST_Y(p) AS lat, gp.person_id FROM grids g"
        " CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p JOIN grid_posts gp ON gp.grid_code = g.code"
        " WHERE g.township_code = $1 ORDER BY g.code",
        town,
    )
    return town, list(rows)


async def _report(http: httpx.AsyncClient, db: asyncpg.Pool, spot: asyncpg.Record, category: str) -> asyncpg.Record:
    body = event(lon=spot["lon"], lat=spot["lat"], category=category, description=f"井盖-{uuid.uuid4().hex[:6]}")
    reply = await http.post("/api/v1/events", json=body)
    assert reply.status_code == 202, reply.text
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    row: asyncpg.Record = await wait_for(lambda: db.fetchrow("SELECT * FROM cases WHERE id = $1", case_id), "case")
    return row


async def test_everyone_signed_in_reads_the_table_of_majors_and_minors(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    assert (await http.get("/api/v1/categories", headers={"Authorization": ""})).status_code == 401
    member = await db.fetchval("SELECT person_id FROM grid_posts ORDER BY grid_code LIMIT 1")
    reply = await http.get("/api/v1/categories", headers=await as_person(db, member))
    assert reply.status_code == 200
    table = reply.json()
    majors = {m["code"]: m for m in table["majors"]}
    assert majors["01"]["name_zh"] == "市容环境" and majors["01"]["name_en"]
    assert {"0102": "暴露垃圾"}.items() <= {n["code"]: n["name_zh"] for n in majors["01"]["minors"]}.items()
    assert all(n["code"].startswith(code) for code, m in majors.items() for n in m["minors"])
    assert table["legacy"]["road"] == "14" and majors["14"]["name_zh"] == "市政设施"
    edit = {"name_zh": "路名牌损坏", "name_en": "Damaged street sign"}
    as_member = await as_person(db, member)
    assert (await http.put("/api/v1/categories/1406", json=edit, headers=as_member)).status_code == 403
    orphan = await http.put("/api/v1/categories/9901", json=edit)
    assert orphan.status_code == 404 and "9901" in orphan.text


async def test_a_rule_naming_a_major_routes_a_legacy_value_and_a_minor_code_alike(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    town, spots = await _township_points(db)
    rule = {"unit_code": town, "position": 1, "category": "14", "target": "team", "sla_hours": 12, "note": "市政设施"}
    added = await http.post("/api/v1/rules", json=rule)
    assert added.status_code == 201, added.text
    rule_id = added.json()["id"]
    assert added.json()["category"] == "14"
    try:
        probes = ((spot, code) for code in ("1403", "1404", "1405", "1401") for spot in spots[2:])

        async def rule_in_force() -> asyncpg.Record | None:
            row = await _report(http, db, *next(probes))
            return row if row["rule_id"] == rule_id else None

        await wait_for(rule_in_force, "the processors to use the rule naming 大类 14", within=20)
        old_phone = await _report(http, db, spots[0], "road")
        new_phone = await _report(http, db, spots[1], "1402")
        other_major = await _report(http, db, spots[1], "0102")
    finally:
        assert (await http.delete(f"/api/v1/rules/{rule_id}")).status_code == 204
    assert (old_phone["category"], new_phone["category"]) == ("1499", "1402")
    for case in (old_phone, new_phone):
        assert case["rule_id"] == rule_id and case["assignee_kind"] == "team" and case["assignee_id"] == f"enf-{town}"
    assert other_major["rule_id"] != rule_id and other_major["assignee_kind"] == "grid_member"

    def listed(params: dict[str, Any]) -> Any:
        return http.get("/api/v1/cases", params={"township": town, **params})

    by_major = {c["id"] for c in (await listed({"category": "14"})).json()}
    by_legacy = {c["id"] for c in (await listed({"category": "road"})).json()}
    by_minor = {c["id"] for c in (await listed({"category": "1402"})).json()}
    ours = {str(old_phone["id"]), str(new_phone["id"])}
    assert ours <= by_major and by_major == by_legacy and str(other_major["id"]) not in by_major
    assert str(new_phone["id"]) in by_minor and str(old_phone["id"]) not in by_minor
    unknown = await listed({"category": "1498"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["query", "category"]

    metrics = (await http.get("/api/v1/metrics", params={"by": "major_category"})).json()
    major = {r["key"]: r for r in metrics}
    assert major["14"]["name"] == "市政设施" and major["14"]["received"] >= 2
    assert major["01"]["name"] == "市容环境" and major["01"]["received"] >= 1
    minors = {r["key"]: r for r in (await http.get("/api/v1/metrics", params={"by": "category"})).json()}
    assert minors["1402"]["name"] == "井盖缺损" and minors["1499"]["received"] >= 1
    assert major["14"]["received"] == sum(r["received"] for k, r in minors.items() if k.startswith("14"))


async def test_the_intake_refuses_a_code_the_table_lacks_naming_the_field(
    live_stack: LiveStack, http: httpx.AsyncClient
) -> None:
    single = await http.post("/api/v1/events", json=event(category="0198"))
    assert single.status_code == 422
    assert single.json()["detail"][0]["loc"] == ["body", "category"]
    malformed = await http.post("/api/v1/events", json=event(category="forest"))
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["loc"][-1] == "category"
    batch = await http.post("/api/v1/events/batch", json=[event(category="0198"), event(category="market")])
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert results[0]["status"] == "invalid" and results[0]["errors"][0]["loc"] == ["body", 0, "category"]
    assert results[1]["status"] == "accepted"
