"""`make bench`: figures for the in-memory locate, the intake, event-to-case latency, case commands and sign-in on
the real stack."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg
import httpx
import shapely

from core.cases import case_id_for_event
from dispatch.db import create_pool
from dispatch.routing.snapshot_store import load_snapshot
from tests.integration.auth import as_person, gateway_headers
from tests.integration.conftest import running_stack
from tests.integration.harness import LiveStack
from tests.integration.helpers import event


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def bench_locate(db_url: str, points: int = 200_000) -> None:
    """Locate random points of the county with the STRtree index, as the stream processor does."""
    pool = await create_pool(db_url, max_size=1)
    snapshot = await load_snapshot(pool, date.today())
    await pool.close()
    minx, miny, maxx, maxy = 104.6, 32.2, 105.6, 32.9
    rng = random.Random(1)
    coords = [(rng.uniform(minx, maxx), rng.uniform(miny, maxy)) for _ in range(points)]
    today = date.today()
    start = time.perf_counter()
    found = sum(1 for lon, lat in coords if snapshot.index.locate(lon, lat, today) is not None)
    elapsed = time.perf_counter() - start
    print(
        f"locate: {points} points over {len(snapshot.index)} grids in {elapsed:.2f} s "
        f"= {points / elapsed:,.0f} points/s ({found} inside a grid)"
    )


async def bench_pipeline(ts: LiveStack, db_url: str, n: int = 2000, concurrency: int = 16) -> None:
    """Post n incidents inside grids; measure intake latency and time until every case is in PostGIS."""
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    geoms = [shapely.from_wkb(r["wkb"]) for r in await pool.fetch("SELECT ST_AsBinary(geom) AS wkb FROM grids")]
    rng = random.Random(2)
    bodies = []
    for _ in range(n):
        p = _inside(geoms[rng.randrange(len(geoms))], rng)
        bodies.append(event(lon=p.x, lat=p.y))
    latencies: list[float] = []
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)

    async def poster(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            t0 = time.perf_counter()
            reply = await client.post("/api/v1/events", json=body)
            latencies.append(time.perf_counter() - t0)
            assert reply.status_code == 202, reply.text

    ids = [case_id_for_event(uuid.UUID(str(b["event_id"]))) for b in bodies]
    event_ids = [uuid.UUID(str(b["event_id"])) for b in bodies]
    start = time.perf_counter()
    # Posted by an intake gateway (a system account), as a hotline or sensor bridge would.
    async with httpx.AsyncClient(base_url=ts.base_url, timeout=30, headers=gateway_headers()) as client:
        await asyncio.gather(*(poster(client) for _ in range(concurrency)))
    posted = time.perf_counter() - start
    # Every event ends in a case of its own or attached to a near one (duplicate detection is on).
    while await pool.fetchval("SELECT count(*) FROM case_events WHERE event_id = ANY($1::uuid[])", event_ids) < n:
        if time.perf_counter() - start > 600:
            raise SystemExit("cases did not all appear within 600 s")
        await asyncio.sleep(0.1)
    done = time.perf_counter() - start
    lag = await pool.fetch(
        "SELECT extract(epoch FROM (c.updated_at - e.received_at)) AS s FROM cases c"
        " JOIN case_events ce ON ce.case_id = c.id JOIN ingest_receipts e ON e.event_id = ce.event_id"
        " WHERE ce.event_id = ANY($1::uuid[])",
        event_ids,
    )
    attached = await pool.fetchval("SELECT count(*) FROM cases WHERE id = ANY($1::uuid[])", ids)
    await pool.close()
    lags = [float(r["s"]) for r in lag]
    print(
        f"intake: {n} events, {concurrency} concurrent clients: {n / posted:,.0f} events/s accepted, "
        f"latency p50 {pct(latencies, 50) * 1000:.1f} ms, p99 {pct(latencies, 99) * 1000:.1f} ms"
    )
    print(
        f"pipeline: all {n} cases stored {done:.1f} s after the first post = {n / done:,.0f} cases/s; "
        f"receipt→case p50 {statistics.median(lags):.2f} s, p99 {pct(lags, 99):.2f} s; "
        f"{n - attached} attached to a near case as duplicates"
    )


def _inside(polygon: shapely.Geometry, rng: random.Random) -> shapely.Point:
    minx, miny, maxx, maxy = polygon.bounds
    while True:
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if polygon.contains(p):
            return p


async def bench_commands(ts: LiveStack, db_url: str, n: int = 300, concurrency: int = 8) -> None:
    """Accept n dispatched cases over HTTP, each answer waiting until the case writer has applied it."""
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    rows = await pool.fetch(
        "SELECT id, assignee_id FROM cases WHERE state = 'dispatched' AND assignee_kind = 'grid_member' LIMIT $1", n
    )
    tokens = {p: await as_person(pool, p) for p in {r["assignee_id"] for r in rows}}
    await pool.close()
    queue: asyncio.Queue[asyncpg.Record] = asyncio.Queue()
    for r in rows:
        queue.put_nowait(r)
    latencies: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            row = queue.get_nowait()
            t0 = time.perf_counter()
            reply = await client.post(
                f"/api/v1/cases/{row['id']}/commands", json={"kind": "accept"}, headers=tokens[row["assignee_id"]]
            )
            latencies.append(time.perf_counter() - t0)
            assert reply.status_code == 200 and reply.json()["status"] == "applied", reply.text

    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=ts.base_url, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    print(
        f"commands: {len(rows)} accepts, {concurrency} concurrent clients, answered once applied: "
        f"{len(rows) / elapsed:,.0f} commands/s, round trip p50 {pct(latencies, 50) * 1000:.0f} ms, "
        f"p99 {pct(latencies, 99) * 1000:.0f} ms"
    )


async def bench_sign_in(ts: LiveStack, n: int = 40, concurrency: int = 4) -> None:
    """Sign in n times (argon2 verification is the cost), a few at a time."""
    latencies: list[float] = []

    async def one(client: httpx.AsyncClient) -> None:
        t0 = time.perf_counter()
        reply = await client.post("/api/v1/auth/token", data={"username": "admin", "password": "grid-demo"})
        latencies.append(time.perf_counter() - t0)
        assert reply.status_code == 200, reply.text

    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=ts.base_url, timeout=30) as client:
        for _ in range(n // concurrency):
            await asyncio.gather(*(one(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    print(
        f"sign-in: {len(latencies)} password sign-ins, {concurrency} at a time: {len(latencies) / elapsed:,.1f}/s, "
        f"p50 {pct(latencies, 50) * 1000:.0f} ms, p99 {pct(latencies, 99) * 1000:.0f} ms"
    )


# One machine posts everything: the per-address and per-account limits would throttle the benchmark itself.
BENCH_ENV = {
    "GRID_RATE_INTAKE_PER_ADDRESS": "1000000/minute",
    "GRID_RATE_INTAKE_PER_GATEWAY": "1000000/minute",
    "GRID_RATE_LOGIN_PER_ADDRESS": "100000/minute",
    "GRID_RATE_LOGIN_PER_USER": "100000/minute",
}


def main() -> None:
    """Start a private slice of the stack, run the benchmarks, clean up."""
    quiet = ("--log-level", "warning", "--no-access-log")
    with running_stack(["demo", "load", "--no-notify"], web_args=quiet, extra_env=BENCH_ENV) as ts:
        print(f"bench on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, 2 cores, broker and PostGIS on this machine")
        asyncio.run(bench_locate(ts.env["GRID_DATABASE_URL"]))
        asyncio.run(bench_pipeline(ts, ts.env["GRID_DATABASE_URL"]))
        asyncio.run(bench_commands(ts, ts.env["GRID_DATABASE_URL"]))
        asyncio.run(bench_sign_in(ts))


if __name__ == "__main__":
    main()
