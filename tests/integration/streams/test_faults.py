"""Under a steady load, a stream worker, the web server, the broker and the database are each killed (SIGKILL) and
started again in turn, on a broker and database of this test's own: the intake answers 202 or 503 with Retry-After
(never 500), and every accepted event ends exactly once (its own case, attached to another, or a queue)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
import pytest_asyncio

from dispatch.db import create_pool
from tests.integration.conftest import running_stack
from tests.integration.harness import LiveStack, wait_for
from tests.integration.streams.accounting import check_accounts, fates, wait_accounted, wait_settled
from tests.integration.streams.load import STACK_ENV, Load, plan_events
from tests.integration.streams.private_stack import PrivateStack, private_stack

pytestmark = pytest.mark.integration

RATE = 20
DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[LiveStack, PrivateStack]]:
    """The demo county on a private broker and database, with a stream worker and a web server."""
    setup = ["demo", "load", "--no-notify"]
    with private_stack() as private, running_stack(setup, extra_env=STACK_ENV, backing=private) as ts:
        yield ts, private


@pytest_asyncio.fixture(scope="module")
async def db(faulty: tuple[LiveStack, PrivateStack]) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(faulty[0].env["GRID_DATABASE_URL"], max_size=2)
    yield pool
    await pool.close()


async def flowing_again(load: Load, db: asyncpg.Pool, since: float, what: str, within: float = 90) -> None:
    """Until events accepted after `since` reach their cases or queues: the whole path works again."""

    async def probe() -> bool:
        fresh = load.accepted_since(since)
        if len(fresh) < 10:
            return False
        try:
            found = await fates(db, fresh)
        except DB_ERRORS:
            return False
        return sum(1 for f in found.values() if f.endings) >= 10

    await wait_for(probe, f"events to flow again after {what}", within)


def troubles(load: Load) -> int:
    """How many requests failed for a fault so far: 503s and requests without an answer."""
    return load.tally.dropped + load.tally.statuses["503"]


async def noticed(load: Load, before: int) -> bool:
    """The load saw the fault: more 503s or dropped requests than `before`."""
    return troubles(load) > before


async def web_up(ts: LiveStack) -> bool:
    try:
        async with httpx.AsyncClient(base_url=ts.base_url, timeout=5) as client:
            return (await client.get("/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_every_accepted_event_survives_killed_workers_servers_broker_and_database(
    faulty: tuple[LiveStack, PrivateStack], db: asyncpg.Pool
) -> None:
    ts, private = faulty
    plan = await plan_events(db, RATE * 300, RATE)
    started = time.monotonic()
    timeline: list[str] = []

    def note(what: str) -> None:
        timeline.append(f"{time.monotonic() - started:5.1f}s {what}")

    async with Load(ts.base_url, plan.bodies, RATE) as load:
        await flowing_again(load, db, started, "the start", within=30)
        note("flowing")

        t = time.monotonic()
        ts.service("streams").kill()
        ts.service("streams").restart()
        await flowing_again(load, db, t, "a stream worker was killed")
        note("worker killed and started again; flowing")

        t, seen = time.monotonic(), troubles(load)
        ts.service("web").kill()
        await wait_for(lambda: noticed(load, seen), "requests to fail while the web server is down", 10)
        ts.service("web").restart()
        await wait_for(lambda: web_up(ts), "the web server again", 60)
        await flowing_again(load, db, t, "the web server was killed")
        note("web server killed and started again; flowing")

        t, seen = time.monotonic(), troubles(load)
        private.kafka.kill()
        await wait_for(lambda: noticed(load, seen), "503s while the broker is down", 30)
        note("broker killed; 503s")
        private.kafka.start()
        private.kafka.wait_ready()
        await flowing_again(load, db, t, "the broker was killed", within=120)
        note("broker started again; flowing")

        t, seen = time.monotonic(), troubles(load)
        private.postgres.kill()
        await wait_for(lambda: noticed(load, seen), "503s while the database is down", 10)
        note("database killed; 503s")
        private.postgres.start()
        await flowing_again(load, db, t, "the database was killed", within=120)
        note("database started again; flowing")

        load.stop()
        tally = await load.finish(within=90)
        note(f"{len(tally.accepted)} accepted; answers {dict(tally.statuses)}, {tally.dropped} without answer")
    print("\n".join(timeline))
    assert not tally.failures, f"answers other than 202 and 503: {tally.failures[:5]}"
    assert not tally.unhinted, f"503s without Retry-After: {tally.unhinted[:5]}"

    found = await wait_accounted(db, tally.accepted, within=90)
    await wait_settled(ts, within=30)
    found = await wait_accounted(db, tally.accepted, within=5)
    await check_accounts(db, found)
    assert all(found[e].unrouted for e in plan.outside if e in tally.accepted)
