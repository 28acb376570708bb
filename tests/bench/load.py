"""What the benchmarks post and how they watch it arrive: events at random points inside grids, the batch and
single doors, and a live-channel listener that notes when each case reached the screen."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import shapely
import websockets

from tests.integration.auth import admin_token
from tests.integration.helpers import event

BATCH_PATH = "/api/v1/events/batch"


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


class Points:
    """Random points inside the demo county's grids, reproducible."""

    def __init__(self, geoms: list[shapely.Geometry], seed: int) -> None:
        self.geoms, self.rng = geoms, random.Random(seed)

    @classmethod
    async def of(cls, pool: asyncpg.Pool, seed: int = 2) -> Points:
        rows = await pool.fetch("SELECT ST_AsBinary(geom) AS wkb FROM grids WHERE valid_to IS NULL")
        return cls([shapely.from_wkb(r["wkb"]) for r in rows], seed)

    def body(self) -> dict[str, Any]:
        """An incident at a random point inside a random grid."""
        polygon = self.geoms[self.rng.randrange(len(self.geoms))]
        minx, miny, maxx, maxy = polygon.bounds
        while True:
            p = shapely.Point(self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy))
            if polygon.contains(p):
                return event(lon=p.x, lat=p.y)


async def post_batch(client: httpx.AsyncClient, bodies: list[dict[str, Any]]) -> int:
    """Post one batch; the number accepted."""
    reply = await client.post(BATCH_PATH, content=orjson.dumps(bodies), headers={"content-type": "application/json"})
    reply.raise_for_status()
    accepted: int = reply.json()["accepted"]
    return accepted


async def stored(pool: asyncpg.Pool, since_id: int) -> int:
    """Events stored as a case's or attached to one since a mark (case_events grows by one per event)."""
    found: int = await pool.fetchval("SELECT count(*) FROM case_events WHERE attached_at >= to_timestamp($1)", since_id)
    return found


@dataclass
class Screen:
    """A command centre's live channel: when each case's change reached it, and how many messages came."""

    seen: dict[str, float] = field(default_factory=dict)
    messages: int = 0


@contextlib.asynccontextmanager
async def screen(base_url: str) -> AsyncIterator[Screen]:
    """An administrator's /ws/live, noting the first arrival of each case, in the background."""
    url = base_url.replace("http://", "ws://") + "/ws/live"
    found = Screen()
    async with websockets.connect(url, subprotocols=["grid.live", f"bearer.{admin_token()}"], max_size=None) as ws:

        async def collect() -> None:
            async for raw in ws:
                now = time.perf_counter()
                msg = orjson.loads(raw)
                for item in msg if isinstance(msg, list) else [msg]:
                    if item.get("type") == "case_changed":
                        found.messages += 1
                        found.seen.setdefault(str(item["case"]["id"]), now)

        task = asyncio.create_task(collect())
        try:
            yield found
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await task


def new_ids(n: int) -> list[uuid.UUID]:
    """Fresh event ids."""
    return [uuid.uuid4() for _ in range(n)]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process (and its reaped children) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")
