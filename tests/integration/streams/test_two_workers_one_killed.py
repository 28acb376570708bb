"""Two stream workers share the partitions; one is killed (SIGKILL) mid-stream and the other takes over: every
accepted event still ends exactly once (its own case, attached to another, or a queue), and duplicates of a
township are still caught."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

from dispatch.db import create_pool
from streams.acls import STREAM
from tests.integration.conftest import running_stack, wait_until
from tests.integration.harness import VENV_BIN, LiveStack, process_user
from tests.integration.streams.accounting import check_accounts, check_pairs, wait_accounted, wait_settled
from tests.integration.streams.load import STACK_ENV, Load, plan_events

pytestmark = pytest.mark.integration

RATE, SECONDS = 30, 20


@pytest.fixture(scope="module")
def two_workers() -> Iterator[LiveStack]:
    """The demo county, duplicates on (100 m), and a second stream worker with a data folder of its own."""
    with running_stack(["demo", "load", "--no-notify"], extra_env=STACK_ENV) as ts:
        second = ts.start(
            "streams-2",
            str(VENV_BIN / "python"),
            "-m",
            "streams",
            "worker",
            "-l",
            "info",
            env={"GRID_DATA_DIR": f"{ts.data_dir}/worker-2", **process_user(STREAM)},
        )
        wait_until(lambda: "[^Worker]: Ready" in second.log_text(), ts, "the second stream worker", timeout=90)
        yield ts


@pytest_asyncio.fixture(scope="module")
async def db(two_workers: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(two_workers.env["GRID_DATABASE_URL"], max_size=4)
    yield pool
    await pool.close()


async def test_a_worker_killed_mid_stream_loses_and_doubles_nothing(two_workers: LiveStack, db: asyncpg.Pool) -> None:
    ts = two_workers
    plan = await plan_events(db, RATE * SECONDS, RATE)
    assert len({spot.township for spot in plan.spots.values()}) >= 10 and len(plan.pairs) >= 30
    async with Load(ts.base_url, plan.bodies, RATE) as load:
        await load.wait_sent(len(plan.bodies) // 3, within=30)
        ts.service("streams").kill()
        killed_at = time.monotonic()
        tally = await load.finish(within=60)
    assert not tally.failures and not tally.unhinted, (tally.failures[:5], tally.unhinted[:5])
    assert len(tally.accepted) == len(plan.bodies)
    assert ts.service("streams-2").proc.poll() is None, "the surviving worker died"

    found = await wait_accounted(db, tally.accepted, within=90)
    await wait_settled(ts, within=30)
    found = await wait_accounted(db, tally.accepted, within=5)
    await check_accounts(db, found)
    check_pairs(found, plan.pairs)
    assert all(found[e].unrouted for e in plan.outside)
    late = [e for e in load.accepted_since(killed_at) if found[e].opened or found[e].in_case]
    assert late, "no event accepted after the kill reached a case"
