"""The batch door on the real stack: answers item by item in order, NDJSON, its size limits, a gateway's own rate
limit held across two workers, idempotency of a batch sent twice, and every accepted event becoming a case."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest_asyncio
from aiokafka.partitioner import murmur2

from core.cases import case_id_for_event
from core.topics import EVENTS
from tests.integration.auth import as_person, gateway_headers
from tests.integration.harness import LiveStack, wait_for
from tests.integration.helpers import event, grid_point

BATCH = "/api/v1/events/batch"
JSON = {"Content-Type": "application/json"}


@pytest_asyncio.fixture(scope="module")
async def gateway(live_stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as an intake gateway (a system account: it posts for any reporter)."""
    async with httpx.AsyncClient(base_url=live_stack.base_url, timeout=30, headers=gateway_headers()) as client:
        yield client


async def at_grids(db: asyncpg.Pool, first: int, n: int, **fields: Any) -> list[dict[str, Any]]:
    """`n` valid events, each inside another real grid (so each opens a case), reported by a sensor."""
    spots = [await grid_point(db, offset=first + i) for i in range(n)]
    return [event(lon=s["lon"], lat=s["lat"], reporter={"id": "wl-sensor-7"}, **fields) for s in spots]


async def cases_of(db: asyncpg.Pool, events: list[dict[str, Any]]) -> int:
    """How many of the events' cases are stored."""
    ids = [case_id_for_event(uuid.UUID(e["event_id"])) for e in events]
    count: int = await db.fetchval("SELECT count(*) FROM cases WHERE id = ANY($1::uuid[])", ids)
    return count


async def all_cased(db: asyncpg.Pool, events: list[dict[str, Any]], what: str) -> None:
    """Wait until every event is a stored case."""
    await wait_for(lambda: _equal(cases_of(db, events), len(events)), what, within=60)


async def _equal(count: Any, expected: int) -> bool:
    return bool(await count == expected)


async def test_a_mixed_batch_is_answered_item_by_item_in_order(gateway: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    earlier, fresh, other = await at_grids(db, 20, 3)
    assert (await gateway.post("/api/v1/events", json=earlier)).status_code == 202
    outside = event(lon=2.35, lat=48.85)
    nameless = {k: v for k, v in event().items() if k != "reporter"}
    items = [
        fresh,
        outside,
        earlier,
        {**earlier, "description": "另一件事"},
        fresh,
        {**fresh, "description": "同一编号，另一内容"},
        other,
        nameless,
    ]
    reply = await gateway.post(BATCH, json=items)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    statuses = [r["status"] for r in answer["results"]]
    assert statuses == ["accepted", "invalid", "duplicate", "conflict", "duplicate", "conflict", "accepted", "invalid"]
    assert [r["index"] for r in answer["results"]] == list(range(len(items)))
    assert [r.get("event_id") for r in answer["results"]] == [i.get("event_id") for i in items]
    assert (answer["accepted"], answer["duplicate"], answer["conflict"], answer["invalid"]) == (2, 2, 2, 2)
    outside_errors, nameless_errors = answer["results"][1]["errors"], answer["results"][7]["errors"]
    assert any(e["loc"][:2] == ["body", 1] and e["loc"][-2:] == ["location", "lon"] for e in outside_errors)
    assert any(e["loc"][:2] == ["body", 7] and e["loc"][-1] == "reporter" for e in nameless_errors)
    assert "errors" not in answer["results"][0]
    await all_cased(db, [earlier, fresh, other], "the accepted events' cases")


async def test_a_person_posts_a_batch_only_as_themselves(live_stack: LiveStack, db: asyncpg.Pool) -> None:
    spot = await grid_point(db, offset=25)
    member = spot["member_id"]
    own = event(lon=spot["lon"], lat=spot["lat"], reporter={"id": member})
    posing = event(lon=spot["lon"], lat=spot["lat"], reporter={"id": "gm-someone-else"})
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=await as_person(db, member)) as c:
        reply = await c.post(BATCH, json=[own, posing])
    assert reply.status_code == 200, reply.text
    first, second = reply.json()["results"]
    assert first["status"] == "accepted" and second["status"] == "invalid"
    assert second["errors"][0]["loc"] == ["body", 1, "reporter", "id"] and second["errors"][0]["type"] == "forbidden"


async def test_ndjson_is_one_event_per_line(gateway: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    a, b = await at_grids(db, 26, 2)
    body = b"\n".join([orjson.dumps(a), b"", b"{nope", orjson.dumps(b), b"  "]) + b"\r\n"
    reply = await gateway.post(BATCH, content=body, headers={"Content-Type": "application/x-ndjson"})
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "invalid", "accepted"]
    assert results[1]["errors"][0]["loc"] == ["body", 1] and results[1]["errors"][0]["type"] == "json_invalid"
    await all_cased(db, [a, b], "the NDJSON events' cases")


async def test_a_batch_has_limits_of_size_and_kind(gateway: httpx.AsyncClient) -> None:
    one = event()
    too_many = await gateway.post(BATCH, json=[one] * 1001)
    assert too_many.status_code == 413 and "1001" in too_many.json()["detail"]
    too_big = await gateway.post(BATCH, content=b"[" + b" " * (1024 * 1024) + b"]", headers=JSON)
    assert too_big.status_code == 413
    csv = await gateway.post(BATCH, content=orjson.dumps([one]), headers={"Content-Type": "text/csv"})
    assert csv.status_code == 415
    not_a_list = await gateway.post(BATCH, json=one)
    assert not_a_list.status_code == 422 and not_a_list.json()["detail"][0]["loc"] == ["body"]
    broken = await gateway.post(BATCH, content=b"[{", headers=JSON)
    assert broken.status_code == 422


async def test_a_gateway_has_a_limit_of_its_own_not_the_phones(limited_web: str, db: asyncpg.Pool) -> None:
    """Two workers, 3 events a minute per address, 30 per gateway: each request on a new connection, so they
    spread over both workers, and the counts still add up."""
    events = await at_grids(db, 40, 35)

    async def post(path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=limited_web, timeout=30, headers=headers) as c:
            return await c.post(path, json=body)

    singles = [await post("/api/v1/events", e, gateway_headers()) for e in events[:5]]
    assert [r.status_code for r in singles] == [202] * 5, "a gateway is not held to the per-address phone limit"
    within = await post(BATCH, events[5:25], gateway_headers())
    assert within.status_code == 200 and within.json()["accepted"] == 20
    beyond = await post(BATCH, events[25:35], gateway_headers())
    assert beyond.status_code == 429 and int(beyond.headers["Retry-After"]) >= 1
    assert "events from this account" in beyond.json()["detail"]
    spot = await grid_point(db, offset=3)
    phone = await as_person(db, spot["member_id"])
    codes = [(await post("/api/v1/events", {"type": "incident"}, phone)).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429], "a phone is still held to the per-address limit"


def sentinel_ids() -> list[str]:
    """One event id per partition of the events topic (the producer's murmur2 of the key)."""
    found: dict[int, str] = {}
    while len(found) < EVENTS.partitions:
        candidate = str(uuid.uuid4())
        found.setdefault((murmur2(candidate.encode()) & 0x7FFFFFFF) % EVENTS.partitions, candidate)
    return list(found.values())


async def test_the_same_batch_twice_is_all_duplicates_and_no_new_case(
    gateway: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    events = await at_grids(db, 80, 12)
    first = (await gateway.post(BATCH, json=events)).json()
    assert first["accepted"] == 12
    await all_cased(db, events, "the batch's cases")
    again = await gateway.post(BATCH, json=events)
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 12 and again.json()["accepted"] == 0
    # Events after the repeat on every partition of the events topic: once they are cases, the repeat has
    # passed the router too.
    spots = await at_grids(db, 100, EVENTS.partitions)
    sentinels = [{**e, "event_id": i} for e, i in zip(spots, sentinel_ids(), strict=True)]
    assert (await gateway.post(BATCH, json=sentinels)).json()["accepted"] == len(sentinels)
    await all_cased(db, sentinels, "the cases of events posted after the repeat")
    ids = [uuid.UUID(e["event_id"]) for e in events]
    rows = await db.fetch("SELECT event_id, case_id FROM case_events WHERE event_id = ANY($1::uuid[])", ids)
    assert sorted((r["event_id"], r["case_id"]) for r in rows) == sorted((i, case_id_for_event(i)) for i in ids)
    assert await cases_of(db, events) == 12
