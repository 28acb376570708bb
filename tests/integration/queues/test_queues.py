"""Resolving the person-facing queues on the real stack: retried, replayed and dismissed items lose nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
from kafka import KafkaProducer

from core.cases import case_id_for_event
from tests.integration.conftest import topic_name
from tests.integration.harness import LiveStack, wait_for
from tests.integration.helpers import event, grid_point, listening


async def _unrouted(db: asyncpg.Pool, event_id: str) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM unrouted_events WHERE event_id = $1", uuid.UUID(event_id))


async def test_a_retried_event_that_still_has_no_route_comes_back_to_the_queue(
    http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    body = event(lon=121.0, lat=31.0)
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    first = await wait_for(lambda: _unrouted(db, body["event_id"]), "the event in the unrouted queue")
    path = f"/api/v1/queues/unrouted/{body['event_id']}/resolution"
    retried = await http.post(path, json={"action": "retry", "note": "grids fixed"})
    assert retried.status_code == 200 and retried.json() == {
        "id": body["event_id"],
        "resolution": "retried",
        "resolved_by": "admin",
    }

    async def back() -> asyncpg.Record | None:
        row = await _unrouted(db, body["event_id"])
        return (
            row
            if row is not None and row["resolved_at"] is None and row["received_at"] > first["received_at"]
            else None
        )

    again = await wait_for(back, "the retried event back in the queue")
    assert again["reason"] == "outside every grid"
    history = [
        i for i in (await http.get("/api/v1/queues/unrouted/resolved")).json() if i["event_id"] == body["event_id"]
    ]
    assert [(h["resolution"], h["note"], h["waiting_again"]) for h in history] == [("retried", "grids fixed", True)]
    waiting = {str(i["event_id"]) for i in (await http.get("/api/v1/queues/unrouted")).json()}
    assert body["event_id"] in waiting


async def test_dismissing_needs_a_note_and_is_kept_with_who_and_why(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    body = event(lon=121.5, lat=31.2)
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    await wait_for(lambda: _unrouted(db, body["event_id"]), "the event in the unrouted queue")
    path = f"/api/v1/queues/unrouted/{body['event_id']}/resolution"
    bare = await http.post(path, json={"action": "dismiss"})
    assert bare.status_code == 422 and "note" in bare.text
    unknown = await http.post(path, json={"action": "route", "note": "x"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "action"]
    async with listening(live_stack.base_url) as live:
        assert (await http.post(path, json={"action": "dismiss", "note": "外省事件，转12345"})).status_code == 200

        async def announced() -> dict[str, Any] | None:
            return next(
                (
                    m
                    for m in live.messages
                    if m["type"] == "unrouted"
                    and m["change"] == "resolved"
                    and m["item"]["event_id"] == body["event_id"]
                ),
                None,
            )

        await wait_for(announced, "the resolution on the live channel")
    row = await _unrouted(db, body["event_id"])
    assert row is not None and (row["resolution"], row["resolved_by"], row["note"]) == (
        "dismissed",
        "admin",
        "外省事件，转12345",
    )
    resolved = {str(i["event_id"]): i for i in (await http.get("/api/v1/queues/unrouted/resolved")).json()}
    assert resolved[body["event_id"]]["note"] == "外省事件，转12345"
    waiting = {str(i["event_id"]) for i in (await http.get("/api/v1/queues/unrouted")).json()}
    assert body["event_id"] not in waiting


async def _letter(http: httpx.AsyncClient, key: str) -> dict[str, Any] | None:
    items = (await http.get("/api/v1/queues/deadletter")).json()
    return next((i for i in items if i["key"] == key), None)


async def test_a_replayed_dead_letter_reaches_its_topic_again(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    topic = topic_name(live_stack, "grid.events")
    key = f"broken-{uuid.uuid4().hex[:8]}"
    producer.send(topic, b'{"type": "incident", "event_id": 1', key=key.encode()).get(10)
    letter = await wait_for(lambda: _letter(http, key), "the broken record in the dead-letter queue")
    replayed = await http.post(f"/api/v1/queues/deadletter/{letter['id']}/resolution", json={"action": "replay"})
    assert replayed.status_code == 200 and replayed.json()["resolution"] == "replayed"

    async def again() -> dict[str, Any] | None:
        found = await _letter(http, key)
        return found if found is not None and found["id"] != letter["id"] else None

    second = await wait_for(again, "the replayed record dead-lettered again (it is still broken)")
    assert second["reason"] == letter["reason"]

    # A record dead-lettered for a reason since fixed (here: stored by hand) becomes a case when replayed.
    spot = await grid_point(db, offset=40)
    good = event(lon=spot["lon"], lat=spot["lat"])
    letter_id = await db.fetchval(
        'INSERT INTO dead_letters (source_topic, "partition", "offset", key, reason, raw, received_at)'
        " VALUES ($1, 0, $2, $3, 'processor failed while the database was down', $4, $5) RETURNING id",
        topic,
        -int(uuid.uuid4().int % 1_000_000_000),
        good["event_id"],
        orjson.dumps(good).decode(),
        datetime.now(UTC),
    )
    done = await http.post(f"/api/v1/queues/deadletter/{letter_id}/resolution", json={"action": "replay"})
    assert done.status_code == 200

    async def case() -> bool | None:
        return await db.fetchval("SELECT true FROM cases WHERE id = $1", case_id_for_event(uuid.UUID(good["event_id"])))

    assert await wait_for(case, "the replayed event's case")
    twice = await http.post(f"/api/v1/queues/deadletter/{letter_id}/resolution", json={"action": "replay"})
    assert twice.status_code == 404


async def test_a_cut_dead_letter_cannot_be_replayed_but_can_be_dismissed(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    letter_id = await db.fetchval(
        'INSERT INTO dead_letters (source_topic, "partition", "offset", key, reason, raw, received_at)'
        " VALUES ($1, 0, $2, 'binary', 'not JSON', $3, now()) RETURNING id",
        topic_name(live_stack, "grid.events"),
        -int(uuid.uuid4().int % 1_000_000_000),
        "\ufffd\ufffdgarbage",
    )
    path = f"/api/v1/queues/deadletter/{letter_id}/resolution"
    refused = await http.post(path, json={"action": "replay"})
    assert refused.status_code == 409 and "not valid UTF-8" in refused.json()["detail"]
    assert await db.fetchval("SELECT resolved_at FROM dead_letters WHERE id = $1", letter_id) is None
    assert (await http.post(path, json={"action": "dismiss", "note": "设备固件错误，已通知厂家"})).status_code == 200
