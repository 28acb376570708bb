"""Delivery beyond the page on the real stack: the delivery process sends a dispatch's SMS and its township's
group-robot webhook to the local sink; a failing receiver is retried with back-off until it takes the message; a
delivery process killed mid-batch and started again sends no notice twice."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest_asyncio

from tests.integration.harness import LiveStack, Service, wait_for
from tests.integration.inbox.processes import running_delivery, running_sink
from tests.integration.inbox.spots import report, spot, townships


@pytest_asyncio.fixture(scope="module")
async def sink_url(live_stack: LiveStack) -> AsyncIterator[str]:
    """The local sink, as make run starts it."""
    async with running_sink(live_stack) as url:
        yield url


@pytest_asyncio.fixture(scope="module")
async def delivery(live_stack: LiveStack, db: asyncpg.Pool, sink_url: str) -> AsyncIterator[Service]:
    """The delivery process pointed at the sink, with the first township's robot registered as data (gridctl)."""
    town, _ = await townships(db)
    async with running_delivery(live_stack, sink_url, town) as service:
        yield service


@pytest_asyncio.fixture
async def sink(sink_url: str, delivery: Service) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the sink's API, its faults cleared."""
    async with httpx.AsyncClient(base_url=sink_url, timeout=10) as client:
        await client.put("/api/faults", json={})
        yield client
        await client.put("/api/faults", json={})


async def deliveries_of(db: asyncpg.Pool, case_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The deliveries of the notices about these cases."""
    rows = await db.fetch(
        "SELECT d.id, d.channel, d.target, d.idempotency_key::text AS key, d.status, d.attempts, d.last_error"
        " FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.case_id = ANY($1::uuid[]) ORDER BY d.id",
        case_ids,
    )
    return [dict(r.items()) for r in rows]


async def all_sent(db: asyncpg.Pool, case_ids: list[uuid.UUID], count: int) -> list[dict[str, Any]] | None:
    """The deliveries once there are `count` and every one is sent."""
    rows = await deliveries_of(db, case_ids)
    return rows if len(rows) == count and all(r["status"] == "sent" for r in rows) else None


async def calls(sink: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every call the sink received."""
    return list((await sink.get("/api/messages")).json())


async def drained(db: asyncpg.Pool) -> bool:
    """Nothing waits in the outbox (what earlier tests queued is out)."""
    return not await db.fetchval("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')")


async def test_a_dispatch_goes_out_by_sms_and_webhook_retried_with_back_off_until_taken(
    http: httpx.AsyncClient, db: asyncpg.Pool, sink: httpx.AsyncClient
) -> None:
    await wait_for(lambda: drained(db), "the outbox to drain", within=60)
    town, _ = await townships(db)
    where = await spot(db, town, offset=5)
    assert where["phone"], "demo grid members have a mobile number"
    await sink.put("/api/faults", json={"count": 4, "status": 503})
    case_id = await report(http, where, "路灯损坏 delivery-retry")
    sent = await wait_for(lambda: all_sent(db, [case_id], 2), "both deliveries sent", within=60)
    assert {(r["channel"], r["target"]) for r in sent} == {("sms", where["phone"]), ("webhook", str(_robot(sent)))}
    assert all(r["attempts"] == 3 and r["last_error"] is None for r in sent)
    received = await calls(sink)
    for row in sent:
        mine = [c for c in received if c["key"] == row["key"]]
        assert [c["accepted"] for c in mine] == [False, False, True], mine
        times = [datetime.fromisoformat(c["at"]) for c in mine]
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert gaps[0] >= 0.9 and gaps[1] >= 1.9, f"back-off 1 s then 2 s, got {gaps}"
    sms = next(c for c in received if c["channel"] == "sms" and c["accepted"] and c["key"] in {r["key"] for r in sent})
    assert sms["body"]["phone"] == where["phone"] and sms["body"]["out_id"] == sms["key"]
    assert sms["body"]["params"]["text"].startswith("新派遣：") and sms["body"]["sign"]
    robot = next(
        c for c in received if c["channel"] == "webhook" and c["accepted"] and c["key"] in {r["key"] for r in sent}
    )
    assert robot["target"] == town and robot["body"]["msgtype"] == "text"
    assert "delivery-retry" in robot["body"]["text"]["content"]


def _robot(rows: list[dict[str, Any]]) -> str:
    return str(next(r["target"] for r in rows if r["channel"] == "webhook"))


async def test_a_delivery_process_killed_mid_batch_sends_no_notice_twice_after_its_restart(
    http: httpx.AsyncClient, db: asyncpg.Pool, sink: httpx.AsyncClient, delivery: Service
) -> None:
    await wait_for(lambda: drained(db), "the outbox to drain", within=60)
    town, _ = await townships(db)
    await sink.put("/api/faults", json={"delay_seconds": 0.4})
    already = {c["key"] for c in await calls(sink)}
    case_ids = [await report(http, await spot(db, town, offset=6 + i), f"delivery-kill {i}") for i in range(6)]
    rows = await wait_for(
        lambda: _counted(db, case_ids, 12), "12 deliveries queued (an SMS and a robot call per dispatch)"
    )
    keys = {r["key"] for r in rows}

    async def some_sent() -> bool:
        got = [c for c in await calls(sink) if c["key"] in keys]
        return 3 <= len(got) < 12

    await wait_for(some_sent, "part of the batch sent", within=60)
    delivery.kill()
    left = [r for r in await deliveries_of(db, case_ids) if r["status"] != "sent"]
    assert left, "the kill came mid-batch: some deliveries were still unsent"
    delivery.restart()
    await wait_for(lambda: all_sent(db, case_ids, 12), "every delivery sent after the restart", within=90)
    mine = [c for c in await calls(sink) if c["key"] in keys]
    assert not keys & already
    taken = Counter(c["key"] for c in mine if c["accepted"] and not c["repeat"])
    assert set(taken) == keys and set(taken.values()) == {1}, "each notice's delivery taken exactly once"
    repeats = [c for c in mine if c["repeat"]]
    assert len(repeats) <= 1, f"only the one call in flight at the kill may be repeated (same key), got {repeats}"


async def _counted(db: asyncpg.Pool, case_ids: list[uuid.UUID], count: int) -> list[dict[str, Any]] | None:
    rows = await deliveries_of(db, case_ids)
    return rows if len(rows) == count else None
