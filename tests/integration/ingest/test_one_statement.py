"""The single door asks the database one thing per event: the claim of its id, one statement in one round trip,
with no pool reset after it; the batch door one statement for the whole batch. The caller's account is checked
once per GRID_SESSION_CHECK_SECONDS, not per request. Counted by a proxy that sees every
message the web server sends the database (tests/integration/pgwire.py)."""

from __future__ import annotations

import asyncpg
import httpx

from dispatch.access.sessions import ACCOUNT_STATE
from ingest.receipts import CLAIM
from tests.integration.auth import gateway_headers
from tests.integration.helpers import event, grid_point
from tests.integration.pgwire import CountingProxy


async def test_one_statement_per_event_and_per_batch(counted_web: tuple[str, CountingProxy], db: asyncpg.Pool) -> None:
    url, proxy = counted_web
    spot = await grid_point(db, offset=60)
    at = {"lon": spot["lon"], "lat": spot["lat"], "reporter": {"id": "wl-sensor-9"}}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=gateway_headers()) as c:
        for _ in range(3):  # the first use of a statement on a connection prepares it
            assert (await c.post("/api/v1/events", json=event(**at))).status_code == 202
        before = proxy.traffic()
        assert before.statements.count(ACCOUNT_STATE) == 1, "the gateway's account is checked once, then remembered"
        bodies = [event(**at) for _ in range(20)]
        for body in bodies:
            assert (await c.post("/api/v1/events", json=body)).status_code == 202
        retry = await c.post("/api/v1/events", json=bodies[0])
        assert retry.status_code == 202
        singles = proxy.traffic()
        reply = await c.post("/api/v1/events/batch", json=[event(**at) for _ in range(50)])
        assert reply.status_code == 200 and reply.json()["accepted"] == 50
        batched = proxy.traffic()
    statements = singles.statements[len(before.statements) :]
    assert statements == (CLAIM,) * 21, statements
    assert singles.round_trips - before.round_trips == 21, "one round trip per request, no reset after it"
    assert singles.simple_queries == before.simple_queries
    assert batched.statements[len(singles.statements) :] == (CLAIM,)
