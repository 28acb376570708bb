"""The real stack for integration tests: the broker and PostGIS (started by infra/stack.sh), a fresh database and
topic prefix, the streams worker and web server running. The session fixtures built on it (live_stack, db, http,
producer) are in tests/conftest.py, shared with the browser tests in tests/browser."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from kafka.admin import KafkaAdminClient
from pydantic import SecretStr

from core.topics import ALL_TOPICS
from streams.acls import ADMIN, STREAM, revoke_acls
from streams.settings import StreamSettings
from tests.integration.harness import (
    VENV_BIN,
    Backing,
    LiveStack,
    free_port,
    login_as,
    password_of,
    process_user,
    scratch_stack,
    web_users,
)

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def running_stack(
    *setup: list[str],
    extra_env: dict[str, str] | None = None,
    web_args: tuple[str, ...] = (),
    backing: Backing | None = None,
) -> Iterator[LiveStack]:
    """A fresh database and topic prefix, set up by gridctl commands, with a streams worker and a web server (on the
    shared broker and database unless `backing` is given)."""
    with scratch_stack(extra_env, backing) as ts:
        # Media under the session's data dir, which stop_all removes.
        ts.extra_env = {"GRID_MEDIA_DIR": str(Path(ts.env["GRID_DATA_DIR"]) / "media"), **ts.extra_env}
        try:
            ts.run(str(VENV_BIN / "python"), "-m", "streams.topics")
            ts.run(str(VENV_BIN / "gridctl"), "migrate")
            for command in setup:
                ts.run(str(VENV_BIN / "gridctl"), *command)
            worker = [str(VENV_BIN / "python"), "-m", "streams", "worker", "-l", "info"]
            ts.start("streams", *worker, env=process_user(STREAM))
            ts.start(
                "web",
                str(VENV_BIN / "uvicorn"),
                "web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(ts.port),
                *trusted_proxies(ts),
                *web_args,
                env=web_users(),
            )
            _wait_ready(ts)
            yield ts
        finally:
            ts.stop_all()
            _delete_topics(ts)


def trusted_proxies(ts: LiveStack) -> list[str]:
    """uvicorn's option that believes X-Forwarded-For only from GRID_TRUSTED_PROXIES (none by default), as the
    product's launchers (infra/supervisor_conf.py, systemd, compose) pass it."""
    return ["--forwarded-allow-ips", ts.env.get("GRID_TRUSTED_PROXIES", "")]


def _wait_ready(ts: LiveStack) -> None:
    """Wait (polling, with deadlines) for the web server's health check and the worker's Ready line."""

    def worker_up() -> bool:
        return "[^Worker]: Ready" in ts.services[0].log_text()

    wait_until(lambda: healthy(ts.base_url), ts, "the web server's /healthz", timeout=60)
    wait_until(worker_up, ts, "the streams worker to be ready", timeout=90)


def healthy(base_url: str) -> bool:
    """Whether a web server answers its health check."""
    try:
        return httpx.get(f"{base_url}/healthz").status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def another_web(
    live_stack: LiveStack, name: str, env: dict[str, str], *web_args: str, suffix: str | None = None
) -> Iterator[LiveStack]:
    """Another web server (uvicorn with `web_args`) on the session's database, with `env` on top and a data dir of
    its own (so its rate-limit counters are its own), on the session's topics or those of `suffix`."""
    ts = LiveStack(suffix=suffix or live_stack.suffix, port=free_port(), extra_env={**live_stack.extra_env})
    ts.extra_env.update({"GRID_DATA_DIR": str(Path(live_stack.env["GRID_DATA_DIR"]) / name), **env})
    argv = ["web.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(ts.port), *trusted_proxies(ts)]
    argv += web_args
    ts.start(name, str(VENV_BIN / "uvicorn"), *argv, env={**web_users(), **env})
    try:
        wait_until(lambda: healthy(ts.base_url), ts, f"the {name} web server's /healthz", timeout=60)
        yield ts
    finally:
        for service in ts.services:
            service.stop()


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
    """Delete the session's topics and the ACLs granted on them."""
    admin = KafkaAdminClient(bootstrap_servers=ts.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"), **login_as(ADMIN))
    prefix = ts.env["GRID_TOPIC_PREFIX"]
    try:
        mine = [t for t in admin.list_topics() if t.startswith(prefix) or t.startswith(prefix.rstrip("."))]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()
    bootstrap = ts.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092")
    admin_settings = {"kafka_username": ADMIN, "kafka_password": SecretStr(password_of(ADMIN))}
    revoke_acls(StreamSettings(kafka_bootstrap=bootstrap, topic_prefix=prefix, **admin_settings))


def topic_name(ts: LiveStack, base: str) -> str:
    """A declared topic's name in this session."""
    assert any(t.name == base for t in ALL_TOPICS)
    return ts.env["GRID_TOPIC_PREFIX"] + base
