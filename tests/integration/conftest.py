"""Session fixtures: the real broker and PostGIS (started by infra/stack.sh), a fresh database and topic
prefix per session, the demo county loaded, and the streams worker and web server running."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from core.topics import ALL_TOPICS
from tests.integration.harness import VENV_BIN, LiveStack, scratch_stack

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def running_stack(
    *setup: list[str], extra_env: dict[str, str] | None = None, web_args: tuple[str, ...] = ()
) -> Iterator[LiveStack]:
    """A fresh database and topic prefix, set up by gridctl commands, with a streams worker and a web server."""
    with scratch_stack(extra_env) as ts:
        try:
            ts.run(str(VENV_BIN / "python"), "-m", "streams.topics")
            ts.run(str(VENV_BIN / "gridctl"), "migrate")
            for command in setup:
                ts.run(str(VENV_BIN / "gridctl"), *command)
            ts.start("streams", str(VENV_BIN / "python"), "-m", "streams", "worker", "-l", "info")
            ts.start(
                "web",
                str(VENV_BIN / "uvicorn"),
                "web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(ts.port),
                *web_args,
            )
            _wait_ready(ts)
            yield ts
        finally:
            ts.stop_all()
            _delete_topics(ts)


@pytest.fixture(scope="session")
def live_stack() -> Iterator[LiveStack]:
    """The product on the demo county (青川县, 2020 list)."""
    with running_stack(["demo", "load", "--no-notify"]) as ts:
        yield ts


def _wait_ready(ts: LiveStack) -> None:
    """Wait (polling, with deadlines) for the web server's health check and the worker's Ready line."""

    def web_up() -> bool:
        try:
            return httpx.get(f"{ts.base_url}/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def worker_up() -> bool:
        return "[^Worker]: Ready" in ts.services[0].log_text()

    wait_until(web_up, ts, "the web server's /healthz", timeout=60)
    wait_until(worker_up, ts, "the streams worker to be ready", timeout=90)


def wait_until(probe: Callable[[], bool], ts: LiveStack, what: str, timeout: float) -> None:
    """Poll a synchronous probe, failing early with its log when a service died."""
    deadline = time.monotonic() + timeout
    while not probe():
        for service in ts.services:
            if service.proc.poll() is not None:
                raise RuntimeError(f"{service.name} exited:\n{service.log_text()[-4000:]}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name}\n{s.log_text()[-3000:]}" for s in ts.services)
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")
        time.sleep(0.1)


def _delete_topics(ts: LiveStack) -> None:
    admin = KafkaAdminClient(bootstrap_servers=ts.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"))
    try:
        prefix = ts.env["GRID_TOPIC_PREFIX"]
        mine = [t for t in admin.list_topics() if t.startswith(prefix) or t.startswith(prefix.rstrip("."))]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()


@pytest_asyncio.fixture(scope="session")
async def db(live_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the session's database, for assertions."""
    pool = await asyncpg.create_pool(live_stack.env["GRID_DATABASE_URL"], min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def http(live_stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the session's web server."""
    async with httpx.AsyncClient(base_url=live_stack.base_url, timeout=15) as client:
        yield client


@pytest.fixture(scope="session")
def producer(live_stack: LiveStack) -> Iterator[KafkaProducer]:
    """A raw producer, to put records on topics the way a misbehaving client would."""
    p = KafkaProducer(bootstrap_servers=live_stack.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"), acks="all")
    yield p
    p.close()


def topic_name(ts: LiveStack, base: str) -> str:
    """A declared topic's name in this session."""
    assert any(t.name == base for t in ALL_TOPICS)
    return ts.env["GRID_TOPIC_PREFIX"] + base
