"""Second web servers on the session's database and topics: with low intake limits, or behind a proxy that counts
what they ask of the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import another_web
from tests.integration.harness import LiveStack
from tests.integration.pgwire import CountingProxy

LIMITED_ENV = {"GRID_RATE_INTAKE_PER_ADDRESS": "3/minute", "GRID_RATE_INTAKE_PER_GATEWAY": "30/minute"}


@pytest.fixture(scope="module")
def limited_web(live_stack: LiveStack) -> Iterator[str]:
    """Two uvicorn workers with low intake limits: 3 events a minute from an address, 30 per gateway account."""
    with another_web(live_stack, "limited-web", LIMITED_ENV, "--workers", "2") as web:
        yield web.base_url


@pytest.fixture(scope="module")
def counted_web(live_stack: LiveStack) -> Iterator[tuple[str, CountingProxy]]:
    """One web server whose every database message passes through a counting proxy; it checks an account at most
    every ten minutes, so the count does not depend on how fast the test runs."""
    with (
        CountingProxy(live_stack.env["GRID_DATABASE_URL"]) as proxy,
        another_web(
            live_stack, "counted-web", {"GRID_DATABASE_URL": proxy.url, "GRID_SESSION_CHECK_SECONDS": "600"}
        ) as web,
    ):
        yield web.base_url, proxy
