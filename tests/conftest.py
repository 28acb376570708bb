"""Session fixtures shared by the integration and browser tests: one product stack per test session (the demo
county on a fresh database and topic prefix, with a streams worker and a web server), and clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from kafka import KafkaProducer

from streams.acls import ADMIN
from tests.integration.auth import admin_headers
from tests.integration.conftest import running_stack
from tests.integration.harness import LiveStack, client_on, login_as, pool_on

# Every test client shares 127.0.0.1, so the per-address limits are raised here; test_auth checks them on a
# second web server with low limits.
SESSION_ENV = {
    "GRID_DUPLICATE_RADIUS_M": "0",
    "GRID_RATE_INTAKE_PER_ADDRESS": "100000/minute",
    "GRID_RATE_LOGIN_PER_ADDRESS": "10000/minute",
    "GRID_RATE_OPEN311_PER_ADDRESS": "100000/minute",
}


@pytest.fixture(scope="session")
def live_stack() -> Iterator[LiveStack]:
    """The product on the demo county (青川县, 2020 list); duplicate detection off, since tests post at one point."""
    with running_stack(["demo", "load", "--no-notify"], extra_env=SESSION_ENV) as ts:
        yield ts


@pytest_asyncio.fixture(scope="session")
async def db(live_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the session's database, for assertions."""
    async with pool_on(live_stack) as pool:
        yield pool


@pytest_asyncio.fixture(scope="session")
async def http(live_stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the session's web server, signed in as the county's administrator."""
    async with client_on(live_stack, admin_headers()) as client:
        yield client


@pytest.fixture(scope="session")
def producer(live_stack: LiveStack) -> Iterator[KafkaProducer]:
    """A raw producer, to put records on topics the way a misbehaving client would."""
    bootstrap = live_stack.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092")
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", **login_as(ADMIN))
    yield p
    p.close()
