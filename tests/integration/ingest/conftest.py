"""Second web servers on the session's database and topics: with low intake limits, or behind a proxy that counts
what they ask of the database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import wait_until
from tests.integration.harness import VENV_BIN, LiveStack, free_port
from tests.integration.pgwire import CountingProxy


@contextlib.contextmanager
def second_web(live_stack: LiveStack, name: str, env: dict[str, str], *web_args: str) -> Iterator[str]:
    """Another web server (uvicorn with `web_args`) on the session's stack, with `env` on top; its own data dir,
    so its rate-limit counters are its own. Yields its base URL."""
    ts = LiveStack(suffix=live_stack.suffix, port=free_port(), extra_env={**live_stack.extra_env})
    ts.extra_env.update({"GRID_DATA_DIR": str(Path(live_stack.env["GRID_DATA_DIR"]) / name), **env})
    argv = ["web.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(ts.port), *web_args]
    ts.start(name, str(VENV_BIN / "uvicorn"), *argv)
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{ts.base_url}/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, ts, f"the {name} web server's /healthz", timeout=60)
        yield ts.base_url
    finally:
        for service in ts.services:
            service.stop()


LIMITED_ENV = {"GRID_RATE_INTAKE_PER_ADDRESS": "3/minute", "GRID_RATE_INTAKE_PER_GATEWAY": "30/minute"}


@pytest.fixture(scope="module")
def limited_web(live_stack: LiveStack) -> Iterator[str]:
    """Two uvicorn workers with low intake limits: 3 events a minute from an address, 30 per gateway account."""
    with second_web(live_stack, "limited-web", LIMITED_ENV, "--workers", "2") as url:
        yield url


@pytest.fixture(scope="module")
def counted_web(live_stack: LiveStack) -> Iterator[tuple[str, CountingProxy]]:
    """One web server whose every database message passes through a counting proxy."""
    with (
        CountingProxy(live_stack.env["GRID_DATABASE_URL"]) as proxy,
        second_web(live_stack, "counted-web", {"GRID_DATABASE_URL": proxy.url}) as url,
    ):
        yield url, proxy
