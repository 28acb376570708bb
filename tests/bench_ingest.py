"""The intake alone, flat out: events/s through the single door at 64 concurrent clients, and through the batch
door in batches of 500, on a private slice of the real stack (as `make bench` starts it).

`python -m tests.bench_ingest [--events 6000] [--clients 64] [--batch 500] [--batch-clients 4] [--workers 1]`

Every event is posted by an intake gateway (a system account) at a point inside a real grid, so the stream
worker behind the door does its full work on them meanwhile; the limits are raised, as one machine posts all.
The clients are aiohttp's (a third of httpx's CPU per request), each with a connection of its own, so the load
generator takes less of the two cores the server shares with it, PostgreSQL, the broker and the stream worker.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg

from tests.bench.load import BATCH_PATH, BENCH_ENV, Points, cpu_seconds, pct, post_json, session
from tests.integration.auth import gateway_headers
from tests.integration.conftest import running_stack
from tests.integration.harness import LiveStack


async def _bodies(db_url: str, n: int, seed: int) -> list[dict[str, Any]]:
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=1)
    points = await Points.of(pool, seed)
    await pool.close()
    return [points.body() for _ in range(n)]


def _session(ts: LiveStack) -> aiohttp.ClientSession:
    return session(ts.base_url, gateway_headers())


async def _flat_out(ts: LiveStack, path: str, items: list[Any], clients: int, status: int) -> tuple[list[float], float]:
    """Post every item to `path`, `clients` at a time, each client with its own connection; latencies and seconds."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def one_client() -> None:
        async with _session(ts) as client:
            while not queue.empty():
                item = queue.get_nowait()
                t0 = time.perf_counter()
                answered, answer = await post_json(client, path, item)
                latencies.append(time.perf_counter() - t0)
                assert answered == status, answer

    start = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies, time.perf_counter() - start


async def single_door(ts: LiveStack, bodies: list[dict[str, Any]], clients: int) -> float:
    """Post each event alone, `clients` at a time; events/s."""
    latencies, elapsed = await _flat_out(ts, "/api/v1/events", bodies, clients, 202)
    print(
        f"single door: {len(bodies)} events, {clients} clients: {len(bodies) / elapsed:,.0f} events/s, "
        f"p50 {pct(latencies, 50) * 1000:.0f} ms, p99 {pct(latencies, 99) * 1000:.0f} ms"
    )
    return len(bodies) / elapsed


async def batch_door(ts: LiveStack, bodies: list[dict[str, Any]], size: int, clients: int) -> float:
    """Post the events in batches of `size`, `clients` batches at a time; events/s."""
    batches = [bodies[i : i + size] for i in range(0, len(bodies), size)]
    latencies, elapsed = await _flat_out(ts, BATCH_PATH, batches, clients, 200)
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
