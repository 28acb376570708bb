"""What the benchmarks post and how they watch it arrive: events at random points inside grids, the batch and
single doors, and a live-channel listener that notes when each case reached the screen."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import shapely

from tests.integration.helpers import event

BATCH_PATH = "/api/v1/events/batch"
# One machine posts everything: the per-address and per-account limits would throttle the benchmark itself.
BENCH_ENV = {
    "GRID_RATE_INTAKE_PER_ADDRESS": "100000000/minute",
    "GRID_RATE_INTAKE_PER_GATEWAY": "100000000/minute",
    "GRID_RATE_INTAKE_PER_USER": "100000000/minute",
    "GRID_RATE_LOGIN_PER_ADDRESS": "100000/minute",
    "GRID_RATE_LOGIN_PER_USER": "100000/minute",
    # The benchmark's command centre shares the load generator's process: a deep queue keeps it from being dropped
    # as too slow (a real screen that falls 1,000 changes behind reconnects for a snapshot).
    "GRID_WS_QUEUE_SIZE": "100000",
}


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


def session(base_url: str, headers: dict[str, str] | None = None, connections: int = 1) -> aiohttp.ClientSession:
    """An HTTP client for the load: aiohttp's, a third of httpx's CPU per request, so the load generator sharing the
    machine takes as little as it can."""
    return aiohttp.ClientSession(
        base_url=base_url,
        headers=headers,
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=120),
    )


async def post_json(client: aiohttp.ClientSession, path: str, body: Any, **headers: str) -> tuple[int, Any]:
    """POST a JSON body; the status and the decoded answer."""
    async with client.post(path, data=orjson.dumps(body), headers={"content-type": "application/json", **headers}) as r:
        return r.status, orjson.loads(await r.read())


async def post_batch(client: aiohttp.ClientSession, bodies: list[dict[str, Any]]) -> int:
    """Post one batch; the number accepted."""
    status, answer = await post_json(client, BATCH_PATH, bodies)
    assert status == 200, answer
    accepted: int = answer["accepted"]
    return accepted


async def stored(pool: asyncpg.Pool, since_id: int) -> int:
    """Events stored as a case's or attached to one since a mark (case_events grows by one per event)."""
    found: int = await pool.fetchval("SELECT count(*) FROM case_events WHERE attached_at >= to_timestamp($1)", since_id)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time a process and its living children (uvicorn's workers) have used so far, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(int(c)) for c in children)
