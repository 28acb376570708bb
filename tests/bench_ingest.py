"""The intake alone, flat out: events/s through the single door at 64 concurrent clients, and through the batch
door in batches of 500, on a private slice of the real stack (as tests/bench.py starts it).

`python -m tests.bench_ingest [--events 6000] [--clients 64] [--batch 500] [--batch-clients 4] [--workers 1]`

Every event is posted by an intake gateway (a system account) at a point inside a real grid, so the stream
worker behind the door does its full work on them meanwhile; the limits are raised, as one machine posts all.
The clients are aiohttp's (a third of httpx's CPU per request), each with a connection of its own, so the load
generator takes less of the two cores the server shares with it, PostgreSQL, the broker and the stream worker.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import orjson
import shapely

from tests.bench.load import cpu_seconds
from tests.integration.auth import gateway_headers
from tests.integration.conftest import running_stack
from tests.integration.harness import LiveStack
from tests.integration.helpers import event

BATCH_PATH = "/api/v1/events/batch"
# One machine posts everything: the limits would throttle the benchmark itself.
BENCH_ENV = {
    "GRID_RATE_INTAKE_PER_ADDRESS": "1000000/minute",
    "GRID_RATE_INTAKE_PER_GATEWAY": "1000000/minute",
}


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def _inside(polygon: shapely.Geometry, rng: random.Random) -> shapely.Point:
    minx, miny, maxx, maxy = polygon.bounds
    while True:
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if polygon.contains(p):
            return p


async def _bodies(db_url: str, n: int, seed: int) -> list[dict[str, Any]]:
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=1)
    rows = await pool.fetch("SELECT ST_AsBinary(geom) AS wkb FROM grids")
    await pool.close()
    geoms = [shapely.from_wkb(r["wkb"]) for r in rows]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        p = _inside(geoms[rng.randrange(len(geoms))], rng)
        out.append(event(lon=p.x, lat=p.y))
    return out


async def _post(session: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, Any]:
    async with session.post(path, data=orjson.dumps(body), headers={"Content-Type": "application/json"}) as r:
        return r.status, orjson.loads(await r.read())


def _session(ts: LiveStack) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        base_url=ts.base_url, headers=gateway_headers(), connector=aiohttp.TCPConnector(limit=1), timeout=TIMEOUT
    )


TIMEOUT = aiohttp.ClientTimeout(total=60)


async def single_door(ts: LiveStack, bodies: list[dict[str, Any]], clients: int) -> float:
    """Post each event alone, `clients` at a time, each client with its own connection; events/s."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    latencies: list[float] = []

    async def client() -> None:
        async with _session(ts) as session:
            while not queue.empty():
                body = queue.get_nowait()
                t0 = time.perf_counter()
                status, answer = await _post(session, "/api/v1/events", body)
                latencies.append(time.perf_counter() - t0)
                assert status == 202, answer

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    print(
        f"single door: {len(bodies)} events, {clients} clients: {len(bodies) / elapsed:,.0f} events/s, "
        f"p50 {pct(latencies, 50) * 1000:.0f} ms, p99 {pct(latencies, 99) * 1000:.0f} ms"
    )
    return len(bodies) / elapsed


async def batch_door(ts: LiveStack, bodies: list[dict[str, Any]], size: int, clients: int) -> float:
    """Post the events in batches of `size`, `clients` batches at a time; events/s (0 without a batch door)."""
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for i in range(0, len(bodies), size):
        queue.put_nowait(bodies[i : i + size])
    latencies: list[float] = []

    async def client() -> None:
        async with _session(ts) as session:
            while not queue.empty():
                batch = queue.get_nowait()
                t0 = time.perf_counter()
                status, answer = await _post(session, BATCH_PATH, batch)
                latencies.append(time.perf_counter() - t0)
                assert status == 200 and answer["accepted"] == len(batch), answer

    async with _session(ts) as session:
        if (await _post(session, BATCH_PATH, []))[0] in (404, 405):
            print("batch door: not served by this build")
            return 0.0
    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    print(
        f"batch door: {len(bodies)} events in batches of {size}, {clients} clients: "
        f"{len(bodies) / elapsed:,.0f} events/s, p50 {pct(latencies, 50) * 1000:.0f} ms per batch, "
        f"p99 {pct(latencies, 99) * 1000:.0f} ms"
    )
    return len(bodies) / elapsed


def main() -> None:
    """Start a private slice of the stack, post through both doors, clean up."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    quiet = ("--log-level", "warning", "--no-access-log", "--workers", str(args.workers))
    with running_stack(["demo", "load", "--no-notify"], web_args=quiet, extra_env=BENCH_ENV) as ts:
        print(f"bench_ingest on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.workers} web worker(s)")
        db_url = ts.env["GRID_DATABASE_URL"]
        bodies = asyncio.run(_bodies(db_url, 2 * args.events, seed=3))
        web = next(s for s in ts.services if s.name == "web").proc.pid
        for name, run in (
            ("single", lambda: single_door(ts, bodies[: args.events], args.clients)),
            ("batch", lambda: batch_door(ts, bodies[args.events :], args.batch, args.batch_clients)),
        ):
            cpu = cpu_seconds(web)
            if asyncio.run(run()):
                print(f"  web server CPU: {(cpu_seconds(web) - cpu) / args.events * 1e3:.2f} ms per event ({name})")


if __name__ == "__main__":
    main()
