"""A steady load of field events on the intake, posted as the gateway, with every answer recorded.

Each event is posted until it is accepted: a 503 must carry Retry-After and the same event is posted again after
it; a dropped connection (a server killed) is retried a second later; any other answer is a failure of the test.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from tests.integration.auth import gateway_headers
from tests.integration.harness import wait_for
from tests.integration.helpers import event

CATEGORIES = ("environment", "road", "safety", "market")
STACK_ENV = {
    "GRID_DUPLICATE_RADIUS_M": "100",
    "GRID_RATE_INTAKE_PER_ADDRESS": "1000000/minute",
    "GRID_RATE_INTAKE_PER_GATEWAY": "1000000/minute",
    # A killed worker's partitions move after 10 s of silence instead of the product's 15.
    "GRID_SESSION_TIMEOUT_S": "10",
    "GRID_HEARTBEAT_INTERVAL_S": "1",
}
"""The stacks of the stream core's fault tests: duplicates on (100 m), no limits on the load."""
PAIR_OFFSET_DEG = 0.0002
"""How far the second event of a near-duplicate pair is from the first: about 22 m north."""

SPOTS = """
SELECT g.township_code AS township, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
FROM grids g CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(g.geom, $1, $2)) p
WHERE ST_Within(ST_Buffer(p.geom::geography, 40)::geometry, g.geom)
ORDER BY g.code, p.path
"""
"""Random points inside every grid, at least 40 m from its edge (so a pair's second point is in the same grid)."""


@dataclass(frozen=True)
class Spot:
    township: str
    lon: float
    lat: float


@dataclass
class Plan:
    """The events in posting order, the near-duplicate pairs among them (first event id, second event id), the events
    outside every grid, and where each incident inside a grid is."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    spots: dict[str, Spot] = field(default_factory=dict)


async def grid_spots(db: asyncpg.Pool, count: int, seed: int = 12) -> list[Spot]:
    """`count` points inside grids of every township, shuffled."""
    grids = await db.fetchval("SELECT count(*) FROM grids")
    rows = await db.fetch(SPOTS, count // grids + 2, seed)
    spots = [Spot(r["township"], r["lon"], r["lat"]) for r in rows]
    random.Random(seed).shuffle(spots)
    assert len(spots) >= count, f"only {len(spots)} grid points for {count} events"
    return spots[:count]


async def plan_events(db: asyncpg.Pool, count: int, rate: float, pair_every: int = 12, gap_s: float = 3.0) -> Plan:
    """`count` events in posting order, mostly at points of their own inside grids; among them events outside every
    grid (Beijing), patrols that found nothing, and every `pair_every`-th the first of a near-duplicate pair whose
    second comes `gap_s` later."""
    spots, plan = iter(await grid_spots(db, count)), Plan()
    due: dict[int, dict[str, Any]] = {}
    gap = max(1, round(gap_s * rate))
    rng = random.Random(3)
    for i in range(count):
        if i in due:
            body = due.pop(i)
        elif i % 17 == 0:
            body = event(lon=116.397 + rng.uniform(-0.01, 0.01), lat=39.909 + rng.uniform(-0.01, 0.01))
            plan.outside.append(body["event_id"])
        elif i % 23 == 0:
            spot = next(spots)
            body = event("patrol", lon=spot.lon, lat=spot.lat, found_nothing=True, description="")
        else:
            spot = next(spots)
            body = event(lon=spot.lon, lat=spot.lat, category=rng.choice(CATEGORIES))
            plan.spots[body["event_id"]] = spot
            later = next(j for j in itertools.count(i + gap) if j not in due)
            if i % pair_every == 1 and later < count:
                second = event(lon=spot.lon, lat=spot.lat + PAIR_OFFSET_DEG, category=body["category"])
                due[later] = second
                plan.spots[second["event_id"]] = spot
                plan.pairs.append((body["event_id"], second["event_id"]))
        plan.bodies.append(body)
    return plan


@dataclass
class Tally:
    """Every answer the load got."""

    accepted: dict[str, float] = field(default_factory=dict)
    """Event id → when (time.monotonic) its 202 came."""
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    """Answers that are neither 202 nor 503."""
    unhinted: list[str] = field(default_factory=list)
    """503s without Retry-After."""
    dropped: int = 0
    """Requests without an answer (connection refused or reset, timeouts): a server was down."""


class Load:
    """Post the plan's events at `rate` per second (retries take their turn among new events) until stopped."""

    def __init__(self, base_url: str, bodies: list[dict[str, Any]], rate: float) -> None:
        self.base_url, self.rate = base_url, rate
        self.fresh = iter(bodies)
        self.tally = Tally()
        self.sent = 0
        self._retries: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._inflight: set[asyncio.Task[None]] = set()
        self._open = True
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Load:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        if self._task is not None and not self._task.done():
            self._task.cancel()
        for task in self._inflight:
            task.cancel()

    async def _run(self) -> None:
        # Room for every request a slow fault holds (up to the intake's 10 s produce timeout) at the load's rate.
        limits = httpx.Limits(max_connections=int(self.rate * 15), max_keepalive_connections=32)
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=gateway_headers(), timeout=30, limits=limits
        ) as client:
            loop = asyncio.get_running_loop()
            start, ticks = loop.time(), 0
            while self._open or self._retries or self._inflight:
                body = self._next()
                if body is not None:
                    task = asyncio.create_task(self._post(client, body))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
                ticks += 1
                await asyncio.sleep(max(0.0, start + ticks / self.rate - loop.time()))  # the load's pace

    def _next(self) -> dict[str, Any] | None:
        if self._retries and self._retries[0][0] <= time.monotonic():
            return heapq.heappop(self._retries)[2]
        if self._open:
            body = next(self.fresh, None)
            if body is None:
                self._open = False
            else:
                self.sent += 1
            return body
        return None

    def _retry(self, body: dict[str, Any], after: float) -> None:
        heapq.heappush(self._retries, (time.monotonic() + after, next(self._order), body))

    async def _post(self, client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        try:
            reply = await client.post("/api/v1/events", json=body)
        except httpx.TransportError:
            self.tally.dropped += 1
            self._retry(body, 1.0)
            return
        self.tally.statuses[str(reply.status_code)] += 1
        if reply.status_code == 202:
            self.tally.accepted[body["event_id"]] = time.monotonic()
        elif reply.status_code == 503:
            hint = reply.headers.get("retry-after")
            if hint is None:
                self.tally.unhinted.append(f"{body['event_id']}: {reply.text[:200]}")
            self._retry(body, min(float(hint or 1), 5.0))
        else:
            self.tally.failures.append(f"{body['event_id']}: {reply.status_code} {reply.text[:300]}")

    def accepted_since(self, moment: float) -> list[str]:
        """Events accepted after a moment (time.monotonic)."""
        return [e for e, at in self.tally.accepted.items() if at > moment]

    async def wait_sent(self, count: int, within: float) -> None:
        """Until `count` new events were posted."""
        await wait_for(lambda: _now(self.sent >= count), f"{count} events posted", within)

    def stop(self) -> None:
        """Post no new events from now on (the ones posted are still retried until accepted)."""
        self._open = False

    async def finish(self, within: float) -> Tally:
        """Until every event was posted (or the load stopped) and accepted; fail after `within` seconds."""
        assert self._task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._task), within)
        except TimeoutError as exc:
            pending = len(self._retries) + len(self._inflight)
            raise AssertionError(f"{pending} events still not accepted after {within:.0f}s") from exc
        return self.tally


async def _now(value: bool) -> bool:
    return value
