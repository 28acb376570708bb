"""Reads against a colleague of another township and an intake gateway: the past of a point, routing rules and their
changes, grid members' names and the live channel's notices show nothing outside the caller's area; a point or unit
of another township answers as one that does not exist."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import httpx
import pytest_asyncio
from kafka import KafkaProducer

from core import topics
from core.queues import QueueChange
from dispatch.clock import local_day
from tests.integration.auth import gateway_headers
from tests.integration.conftest import topic_name
from tests.integration.harness import LiveStack, wait_for
from tests.integration.helpers import LiveListener, event, listening
from tests.integration.security.townships import Township, same_answer, two_townships

FAR = (120.0, 30.0)
"""A point outside every grid and township of the demo county."""


@pytest_asyncio.fixture(scope="module")
async def towns(db: asyncpg.Pool) -> tuple[Township, Township]:
    """Township A (the demo's `dispatcher`) and township B (`dispatcher-b`)."""
    return await two_townships(db)


async def test_the_past_of_another_townships_point_reads_as_a_point_outside_every_grid(
    http: httpx.AsyncClient, towns: tuple[Township, Township]
) -> None:
    a, b = towns
    today = local_day(datetime.now(UTC)).isoformat()

    async def past(who: dict[str, str], lon: float, lat: float) -> httpx.Response:
        return await http.get("/api/v1/history/point", params={"lon": lon, "lat": lat, "on": today}, headers=who)

    theirs, nowhere = await past(a.dispatcher_headers, b.lon, b.lat), await past(a.dispatcher_headers, *FAR)
    assert theirs.status_code == nowhere.status_code == 404
    assert same_answer(theirs.json(), nowhere.json(), f"({b.lon}, {b.lat})", f"({FAR[0]}, {FAR[1]})")
    own = await past(b.dispatcher_headers, b.lon, b.lat)
    assert own.status_code == 200 and own.json()["member"]["name"], "the township's own dispatcher sees its member"


async def test_rules_and_their_changes_stay_within_the_area(
    http: httpx.AsyncClient, towns: tuple[Township, Township]
) -> None:
    a, b = towns
    spec = {"unit_code": b.code, "position": 99_999, "event_type": "sensor_alert", "category": "other"}
    added = await http.post("/api/v1/rules", json={**spec, "target": "team", "sla_hours": 24, "note": "安全测试"})
    assert added.status_code == 201, added.text
    rule_id = added.json()["id"]
    assert (await http.delete(f"/api/v1/rules/{rule_id}")).status_code == 204

    async def read(who: dict[str, str], path: str, **params: Any) -> list[dict[str, Any]]:
        reply = await http.get(path, params=params, headers=who)
        assert reply.status_code == 200, reply.text
        rows: list[dict[str, Any]] = reply.json()
        return rows

    assert await read(a.dispatcher_headers, "/api/v1/rules", unit=b.code) == []
    assert await read(a.dispatcher_headers, "/api/v1/rules", unit="510822999") == [], "as an unknown unit"
    units = {r["unit_code"] for r in await read(a.dispatcher_headers, "/api/v1/rules")}
    assert units and units <= {a.code[:6], a.code}
    theirs = await read(a.dispatcher_headers, "/api/v1/rules/changes", limit=1000)
    assert rule_id not in {c["rule_id"] for c in theirs}
    assert all((c["after"] or c["before"])["unit_code"] in (a.code[:6], a.code) for c in theirs), (
        "only changes to the county's defaults and the township's own rules"
    )
    own = await read(b.dispatcher_headers, "/api/v1/rules/changes", limit=1000)
    assert {c["action"] for c in own if c["rule_id"] == rule_id} == {"create", "retire"}


async def test_a_gateway_receives_no_grid_members_names(
    http: httpx.AsyncClient, towns: tuple[Township, Township]
) -> None:
    a, _ = towns
    gateway = (await http.get("/api/v1/grids", headers=gateway_headers())).json()["features"]
    assert gateway and all(f["properties"]["member_name"] is None for f in gateway)
    desk = (await http.get("/api/v1/grids", headers=a.dispatcher_headers)).json()["features"]
    assert any(f["properties"]["member_name"] for f in desk), "the command centre still sees who is posted"


def _notice(
    producer: KafkaProducer, stack: LiveStack, queue: Literal["unrouted", "deadletter"], region: str | None
) -> str:
    """Put a queue notice on the broker as the stream workers would, and return its item id."""
    item = str(uuid.uuid4())
    notice = QueueChange(queue=queue, item_id=item, at=datetime.now(UTC), region=region)
    producer.send(topic_name(stack, topics.QUEUE_CHANGES.name), notice.model_dump_json().encode(), key=queue.encode())
    producer.flush()
    return item


def _items(live: LiveListener) -> set[str]:
    return {str(m["item"].get("event_id") or m["item"].get("id")) for m in live.messages if "item" in m}


async def test_queue_notices_reach_only_the_command_centres_whose_area_covers_them(
    http: httpx.AsyncClient,
    live_stack: LiveStack,
    producer: KafkaProducer,
    towns: tuple[Township, Township],
) -> None:
    a, b = towns
    token_a, token_b = (t.dispatcher_headers["Authorization"].removeprefix("Bearer ") for t in (a, b))
    base = live_stack.base_url
    async with listening(base, token_a) as desk_a, listening(base, token_b) as desk_b, listening(base) as admin:
        far = event(lon=FAR[0], lat=FAR[1])
        assert (await http.post("/api/v1/events", json=far, headers=gateway_headers())).status_code == 202
        await wait_for(lambda: _has(admin, far["event_id"]), "the unrouted notice on the administrator's channel")
        to_b = _notice(producer, live_stack, "unrouted", b.code)
        dead = _notice(producer, live_stack, "deadletter", a.code)
        to_a = _notice(producer, live_stack, "unrouted", a.code)
        last_b, last_a = (
            _notice(producer, live_stack, "unrouted", b.code),
            _notice(producer, live_stack, "unrouted", a.code),
        )
        for live, item in ((desk_a, last_a), (desk_b, last_b), (admin, last_a), (admin, last_b)):
            await wait_for(lambda live=live, item=item: _has(live, item), f"notice {item}")
    assert _items(desk_a) == {to_a, last_a}
    assert _items(desk_b) == {to_b, last_b}
    assert {far["event_id"], to_a, to_b, dead, last_a, last_b} <= _items(admin)


async def _has(live: LiveListener, item: str) -> bool:
    return item in _items(live)
