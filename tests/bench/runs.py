"""The product's figures: the batch door sustained end to end, the phone door, latency to the screen at a fixed
rate, commands, and the batch rate with a large memory of recent cases."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
import shapely

from core.cases import case_id_for_event
from tests.bench.load import Points, cpu_seconds, pct, post_batch, post_json, session
from tests.integration.auth import as_person, gateway_headers
from tests.integration.helpers import listening

BATCH = 500
MAX_BACKLOG = 20_000


async def settle(probe: Callable[[], Awaitable[int]], enough: Callable[[int], bool], within: float) -> int:
    """Poll a count until it is enough or the time is up; the last count."""
    deadline = time.perf_counter() + within
    while True:
        count = await probe()
        if enough(count) or time.perf_counter() > deadline:
            return count
        await asyncio.sleep(0.2)


async def drained(pool: asyncpg.Pool) -> None:
    """Wait until the pipeline has caught up: the stored events stop growing for five seconds (at most 5 minutes)."""
    last, steady, deadline = -1, 0, time.perf_counter() + 300
    while steady < 10 and time.perf_counter() < deadline:
        now = await pool.fetchval("SELECT count(*) FROM case_events")
        steady = steady + 1 if now == last else 0
        last = now
        await asyncio.sleep(0.5)


async def batch_sustained(
    base_url: str, pool: asyncpg.Pool, seconds: float, processes: dict[str, int], posters: int = 3
) -> dict[str, float]:
    """Batches of 500 posted for `seconds` by gateways, never more than MAX_BACKLOG ahead of the pipeline; the rate
    is events stored as a case or an attach, with their live message sent, per second, from the first post to the
    last stored."""
    points = await Points.of(pool, seed=int(time.time()))
    mark = time.time()
    accepted, stop = 0, time.perf_counter() + seconds

    async def done() -> int:
        found: int = await pool.fetchval(
            "SELECT count(*) FROM case_events WHERE extract(epoch FROM attached_at) > $1", mark
        )
        return found

    async def poster(client: aiohttp.ClientSession) -> None:
        nonlocal accepted
        while time.perf_counter() < stop:
            if accepted - await done() > MAX_BACKLOG:
                await asyncio.sleep(0.2)
                continue
            accepted += await post_batch(client, [points.body() for _ in range(BATCH)])

    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    async with (
        listening(base_url) as live,
        session(base_url, gateway_headers(), connections=posters) as client,
    ):
        start = time.perf_counter()
        await asyncio.gather(*(poster(client) for _ in range(posters)))
        posted = time.perf_counter() - start
        n = await settle(done, lambda stored: stored >= accepted, within=300)
        elapsed = time.perf_counter() - start
        messages = live.case_changes
    cpu = {
        f"cpu_ms_per_event_{name}": (cpu_seconds(pid) - cpu_before[name]) * 1000 / max(n, 1)
        for name, pid in processes.items()
    }
    return cpu | {
        "events": n,
        "accepted": accepted,
        "seconds": elapsed,
        "per_s": n / elapsed,
        "intake_per_s": accepted / posted,
        "live_messages": messages,
    }


MEMBERS_AT_HOME = """
SELECT DISTINCT ON (p.id) p.id, ST_AsBinary(g.geom) AS wkb FROM people p
JOIN grid_posts gp ON gp.person_id = p.id AND gp.valid_to IS NULL
JOIN grids g ON g.code = gp.grid_code AND g.valid_to IS NULL
WHERE p.role = 'grid_member' AND p.valid_to IS NULL ORDER BY p.id LIMIT $1
"""


async def phone(base_url: str, pool: asyncpg.Pool, seconds: float = 20, clients: int = 64) -> dict[str, float]:
    """Single events posted by 64 concurrent phones, each its grid member reporting in their own grid over a
    connection of its own: accepted per second and latency (bodies made beforehand)."""
    rows = await pool.fetch(MEMBERS_AT_HOME, clients)
    phones = []
    for n, r in enumerate(rows):
        points = Points([shapely.from_wkb(r["wkb"])], seed=n)
        bodies = [points.body() | {"reporter": {"id": r["id"], "name": "网格员"}} for _ in range(400)]
        phones.append((bodies, await as_person(pool, r["id"])))
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def one_phone(bodies: list[dict[str, Any]], auth: dict[str, str]) -> None:
        async with session(base_url, auth) as client:
            for body in bodies:
                if time.perf_counter() > stop:
                    return
                t0 = time.perf_counter()
                status, answer = await post_json(client, "/api/v1/events", body)
                latencies.append(time.perf_counter() - t0)
                assert status == 202, answer

    start = time.perf_counter()
    await asyncio.gather(*(one_phone(b, h) for b, h in phones))
    elapsed = time.perf_counter() - start
    return {"per_s": len(latencies) / elapsed, "p50_ms": pct(latencies, 50) * 1000, "p99_ms": pct(latencies, 99) * 1000}


async def to_screen(
    base_url: str, pool: asyncpg.Pool, rate: int = 1000, seconds: float = 20, category: str = "road"
) -> dict[str, float]:
    """Events at a fixed rate (batches of rate/20 every 50 ms, made beforehand): from the POST to the case on the
    live channel of a command centre. Their category is one no earlier load used, so few attach to an existing case
    as duplicates (an attach shows as the other case's change, which the probe cannot match)."""
    points = await Points.of(pool, seed=rate)
    per_tick, tick = max(1, rate // 20), 0.05
    ticks = [[points.body() | {"category": category} for _ in range(per_tick)] for _ in range(int(seconds / tick))]
    sent: dict[str, float] = {}

    async def one_tick(client: aiohttp.ClientSession, bodies: list[dict[str, Any]]) -> None:
        now = time.perf_counter()
        for b in bodies:
            sent[str(case_id_for_event(uuid.UUID(b["event_id"])))] = now
        await post_batch(client, bodies)

    async with listening(base_url) as live, session(base_url, gateway_headers(), connections=8) as client:
        start, tasks = time.perf_counter(), []
        for i, bodies in enumerate(ticks):
            await asyncio.sleep(max(0.0, start + i * tick - time.perf_counter()))
            tasks.append(asyncio.create_task(one_tick(client, bodies)))
        await asyncio.gather(*tasks)

        async def arrived() -> int:
            return len(set(sent) & set(live.first_seen))

        await settle(arrived, lambda n: n >= 0.98 * len(sent), within=60)
        lat = [(live.first_seen[c] - t) * 1000 for c, t in sent.items() if c in live.first_seen]
    return {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "seen": len(lat) / max(1, len(sent))}


async def commands(base_url: str, pool: asyncpg.Pool, n: int = 1500, concurrency: int = 64) -> dict[str, float]:
    """Accept n dispatched cases over HTTP, each answer waiting until the case writer has applied it."""
    rows = await pool.fetch(
        "SELECT id, assignee_id FROM cases WHERE state = 'dispatched' AND assignee_kind = 'grid_member' LIMIT $1", n
    )
    tokens = {p: await as_person(pool, p) for p in {r["assignee_id"] for r in rows}}
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for r in rows:
        queue.put_nowait(r)
    latencies: list[float] = []

    async def worker() -> None:
        async with session(base_url) as client:
            while not queue.empty():
                row = queue.get_nowait()
                t0 = time.perf_counter()
                path = f"/api/v1/cases/{row['id']}/commands"
                status, answer = await post_json(client, path, {"kind": "accept"}, **tokens[row["assignee_id"]])
                latencies.append(time.perf_counter() - t0)
                assert status == 200 and answer["status"] == "applied", answer

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {"per_s": len(latencies) / elapsed, "p50_ms": pct(latencies, 50) * 1000, "p99_ms": pct(latencies, 99) * 1000}


SEED_RECENT = """
INSERT INTO cases
SELECT (jsonb_populate_record(s.t, jsonb_build_object(
    'id', gen_random_uuid(), 'opened_at', now() - (random() * interval '60 minutes'),
    'location', ST_AsEWKT(ST_SetSRID(ST_MakePoint(104.6 + random(), 32.2 + random() * 0.7), 4326)),
    'township_code', towns[1 + g % array_length(towns, 1)]))).*
FROM (SELECT c AS t FROM cases c WHERE closed_at IS NULL LIMIT 1) s,
     (SELECT array_agg(DISTINCT township_code) AS towns FROM cases) c, generate_series(1, $1) g
"""


async def seed_recent_cases(pool: asyncpg.Pool, n: int = 100_000) -> int:
    """n open cases opened within the last hour, spread over the townships: the memory a busy county has."""
    await pool.execute(SEED_RECENT, n)
    found: int = await pool.fetchval(
        "SELECT count(*) FROM cases WHERE closed_at IS NULL AND opened_at > now() - interval '2 hours'"
    )
    return found
