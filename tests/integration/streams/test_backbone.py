"""A phone's event reaches the command centre through the real broker and PostGIS."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import orjson
from kafka import KafkaProducer

from core.cases import case_id_for_event
from tests.integration.conftest import topic_name
from tests.integration.harness import LiveStack, wait_for
from tests.integration.helpers import event, grid_point, listening


async def stored_case(db: asyncpg.Pool, event_id: str) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM cases WHERE id = $1", case_id_for_event(uuid.UUID(event_id)))


async def test_an_incident_in_a_grid_opens_a_case_for_its_member_and_goes_live(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    spot = await grid_point(db, offset=3)
    body = event(lon=spot["lon"], lat=spot["lat"])
    case_id = str(case_id_for_event(uuid.UUID(body["event_id"])))
    async with listening(live_stack.base_url) as live:
        reply = await http.post("/api/v1/events", json=body)
        assert reply.status_code == 202
        assert reply.json() == {"event_id": body["event_id"], "status": "accepted"}

        async def announced() -> dict[str, Any] | None:
            return live.find("case_changed", id=case_id)

        message = await wait_for(announced, "the new case on the live channel", within=10)
    case = message["case"]
    assert case["grid_code"] == spot["code"]
    assert case["state"] == "dispatched"
    assert case["assignee"] == {
        "kind": "grid_member",
        "id": spot["member_id"],
        "name": spot["member"],
        "fallback": None,
    }
    row = await stored_case(db, body["event_id"])
    assert row is not None and row["grid_code"] == spot["code"] and row["assignee_id"] == spot["member_id"]
    log = await db.fetch("SELECT kind FROM case_log WHERE case_id = $1 ORDER BY seq", row["id"])
    assert [r["kind"] for r in log] == ["registered", "dispatched"]
    detail = (await http.get(f"/api/v1/cases/{case_id}")).json()
    assert detail["case"]["id"] == case_id and [e["kind"] for e in detail["log"]] == ["registered", "dispatched"]


async def test_the_same_event_posted_twice_makes_one_case(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    spot = await grid_point(db, offset=10)
    body = event(lon=spot["lon"], lat=spot["lat"])
    first = await http.post("/api/v1/events", json=body)
    second = await http.post("/api/v1/events", json=body)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    conflicting = await http.post("/api/v1/events", json={**body, "description": "另一件事"})
    assert conflicting.status_code == 409
    assert body["event_id"] in conflicting.json()["detail"]

    # the broker redelivers the record (at-least-once): still one case, log unchanged
    producer.send(topic_name(live_stack, "grid.events"), orjson.dumps(body), key=body["event_id"].encode()).get(10)
    row = await wait_for(lambda: stored_case(db, body["event_id"]), "the case in PostGIS")
    marker = event(lon=spot["lon"], lat=spot["lat"])
    producer.send(topic_name(live_stack, "grid.events"), orjson.dumps(marker), key=marker["event_id"].encode()).get(10)
    await wait_for(lambda: stored_case(db, marker["event_id"]), "a later event's case, so the replay was processed")
    assert await db.fetchval("SELECT count(*) FROM cases WHERE id = $1", row["id"]) == 1
    assert await db.fetchval("SELECT count(*) FROM case_log WHERE case_id = $1", row["id"]) == 2


async def test_a_point_outside_every_grid_lands_in_the_unrouted_queue(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    body = event(lon=116.397, lat=39.909)  # Beijing: inside China, outside every grid of the county
    async with listening(live_stack.base_url) as live:
        assert (await http.post("/api/v1/events", json=body)).status_code == 202

        async def queued() -> list[dict[str, Any]] | None:
            items = (await http.get("/api/v1/queues/unrouted")).json()
            return [i for i in items if i["event_id"] == body["event_id"]] or None

        items = await wait_for(queued, "the event in the unrouted queue")
        await wait_for(lambda: _async(live.find("unrouted", event_id=body["event_id"])), "the unrouted notice")
    assert items[0]["reason"] == "outside every grid"
    assert await stored_case(db, body["event_id"]) is None


async def test_a_malformed_record_is_dead_lettered_and_the_next_event_still_processed(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    topic = topic_name(live_stack, "grid.events")
    producer.send(topic, b'{"type": "incident", "event_id": "not-a-uuid"', key=b"broken").get(10)
    spot = await grid_point(db, offset=20)
    good = event(lon=spot["lon"], lat=spot["lat"])
    producer.send(topic, orjson.dumps(good), key=good["event_id"].encode()).get(10)

    async def dead_lettered() -> list[dict[str, Any]] | None:
        items = (await http.get("/api/v1/queues/deadletter")).json()
        return [i for i in items if i["key"] == "broken"] or None

    letters = await wait_for(dead_lettered, "the broken record in the dead-letter queue")
    assert letters[0]["source_topic"] == topic and "not JSON" in letters[0]["reason"]
    assert await wait_for(lambda: stored_case(db, good["event_id"]), "the next good event's case")


async def test_an_enforcement_category_reaches_the_townships_team(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    spot = await grid_point(db, offset=30)
    body = event(
        "enforcement_lead",
        lon=spot["lon"],
        lat=spot["lat"],
        category="illegal_construction",
        suspect="某农户",
        description="未批先建，已砌二层墙体",
    )
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    row = await wait_for(lambda: stored_case(db, body["event_id"]), "the enforcement case")
    assert row["assignee_kind"] == "team"
    assert row["assignee_id"] == f"enf-{spot['township_code']}"
    assert row["assignee_name"].endswith("综合行政执法队")
    assert row["priority"] == "high"


async def test_a_patrol_that_found_nothing_is_logged_without_a_case(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    spot = await grid_point(db, offset=40)
    body = event("patrol", lon=spot["lon"], lat=spot["lat"], found_nothing=True, description="")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    entry = await wait_for(
        lambda: db.fetchrow("SELECT grid_code FROM patrol_log WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the patrol in the patrol log",
    )
    assert entry["grid_code"] == spot["code"]
    assert await stored_case(db, body["event_id"]) is None


async def _async(value: object) -> object:
    return value
