"""The real stack for integration tests: a fresh database and topic prefix, a streams worker and a web server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import asyncpg
import httpx

from dispatch.db import create_pool
from dispatch.settings import sasl_options
from streams.acls import INTAKE, WEB

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
T = TypeVar("T")


async def wait_for(probe: Callable[[], Awaitable[T | None]], what: str, within: float = 15.0) -> T:
    """Poll `probe` until it returns something other than None (or False), or fail naming `what`."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


def password_of(user: str) -> str:
    """The installation's broker password of `user` (.stack/secrets.env, loaded by tests/__init__.py)."""
    return os.environ[f"GRID_KAFKA_PASSWORD_{user.upper()}"]


def login_as(user: str) -> dict[str, str]:
    """Client options (aiokafka, kafka-python) that log in to the broker as `user`; tests act as admin."""
    return sasl_options(user, password_of(user))


def process_user(user: str) -> dict[str, str]:
    """The environment that makes a product process log in to the broker as `user`."""
    return {"GRID_KAFKA_USERNAME": user, "GRID_KAFKA_PASSWORD": password_of(user)}


def web_users() -> dict[str, str]:
    """A web server's broker users, as make run gives them: web, and intake for the intake inside it."""
    return {
        **process_user(WEB),
        "GRID_INTAKE_KAFKA_USERNAME": INTAKE,
        "GRID_INTAKE_KAFKA_PASSWORD": password_of(INTAKE),
    }


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stack(*args: str) -> str:
    """Run infra/stack.sh with arguments and return its output; fail loudly."""
    done = subprocess.run(["bash", str(ROOT / "infra" / "stack.sh"), *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"infra/stack.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def owner_server(server: str) -> str:
    """The shared server as the owner role: GRID_DATABASE_OWNER_URL's, or the application's with the owner's secret."""
    explicit = os.environ.get("GRID_DATABASE_OWNER_URL")
    if explicit:
        return explicit.rsplit("/", 1)[0]
    address = server.rsplit("@", 1)[1]
    return f"postgresql://grid_owner:{os.environ.get('GRID_DATABASE_OWNER_PASSWORD', '')}@{address}"


class Backing(Protocol):
    """A broker and a database server to run a stack on; by default the shared ones of infra/stack.sh."""

    @property
    def kafka_bootstrap(self) -> str: ...

    @property
    def database_server(self) -> str:
        """The server's URL without a database name: postgresql://user:password@host:port"""
        ...

    @property
    def database_owner_server(self) -> str:
        """The same server as the owner role (which owns the tables and runs migrations)."""
        ...

    def createdb(self, name: str) -> None: ...

    def dropdb(self, name: str) -> None: ...


def launch(argv: tuple[str, ...], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a process from the repository root, appending its output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


@dataclass
class Service:
    """A child process with its log file (and how it was started, so it can be started again)."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown work at all."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def restart(self) -> None:
        """Start the process again the way it was started (after kill or stop), logging to the same file."""
        self.kill()
        self.proc = launch(self.argv, self.env, self.log)

    def log_text(self) -> str:
        """What the process has logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """Terminate, then kill if it does not exit."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class LiveStack:
    """Names and addresses of one test session's slice of the real stack."""

    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    port: int = field(default_factory=free_port)
    services: list[Service] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    backing: Backing | None = None

    @property
    def database(self) -> str:
        return f"gridtest_{self.suffix}"

    @property
    def env(self) -> dict[str, str]:
        """Environment of every process of this test session."""
        base_url = os.environ.get("GRID_DATABASE_URL", "postgresql://grid:grid@127.0.0.1:25432/grid")
        server = self.backing.database_server if self.backing else base_url.rsplit("/", 1)[0]
        owner = self.backing.database_owner_server if self.backing else owner_server(server)
        brokers = {"GRID_KAFKA_BOOTSTRAP": self.backing.kafka_bootstrap} if self.backing else {}
        return {
            **os.environ,
            **brokers,
            "GRID_DATABASE_URL": f"{server}/{self.database}",
            "GRID_DATABASE_OWNER_URL": f"{owner}/{self.database}",
            "GRID_AUDIT_ANCHOR_DIR": str(Path(self.data_dir) / "audit"),
            "GRID_TOPIC_PREFIX": f"test.{self.suffix}.",
            "GRID_DATA_DIR": self.data_dir,
            **self.extra_env,
        }

    @property
    def data_dir(self) -> str:
        """Local state of this session's processes (the stream worker's faust data, media, audit anchors), removed at
        the end."""
        return str(Path(tempfile.gettempdir()) / f"gridtest-{self.suffix}")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *argv: str) -> None:
        """Run a command to completion in this session's environment."""
        done = subprocess.run(argv, env=self.env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self, name: str, *argv: str, env: dict[str, str] | None = None) -> Service:
        """Start a long-running process (with `env` over the session's environment), logging to test-artifacts/."""
        ARTIFACTS.mkdir(exist_ok=True)
        log = ARTIFACTS / f"{self.suffix}-{name}.log"
        log.unlink(missing_ok=True)
        environment = {**self.env, **(env or {})}
        service = Service(name, launch(argv, environment, log), log, argv, environment)
        self.services.append(service)
        return service

    def service(self, name: str) -> Service:
        """The started process of that name."""
        return next(s for s in self.services if s.name == name)

    def stop_all(self) -> None:
        """Stop every started process, newest first."""
        for service in reversed(self.services):
            service.stop()
        self.services.clear()
        shutil.rmtree(self.env["GRID_DATA_DIR"], ignore_errors=True)


@contextlib.contextmanager
def scratch_stack(extra_env: dict[str, str] | None = None, backing: Backing | None = None) -> Iterator[LiveStack]:
    """The broker and PostGIS up (the shared ones unless `backing` is given), and a fresh database (dropped
    afterwards) for one test or benchmark."""
    if backing is None:
        stack("up")
    ts = LiveStack(extra_env=extra_env or {}, backing=backing)
    if backing is None:
        stack("createdb", ts.database)
    else:
        backing.createdb(ts.database)
    try:
        yield ts
    finally:
        if backing is None:
            stack("dropdb", ts.database)
        else:
            backing.dropdb(ts.database)


@contextlib.asynccontextmanager
async def pool_on(
    stack: LiveStack, max_size: int = 4, json_codecs: bool = False, as_owner: bool = False
) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a stack's database for set-up and assertions: raw JSON text, or Python values like the product's;
    as the application role, or as the owner role (an operator with the database's owner rights)."""
    url = stack.env["GRID_DATABASE_OWNER_URL" if as_owner else "GRID_DATABASE_URL"]
    pool = await (
        create_pool(url, max_size=max_size) if json_codecs else asyncpg.create_pool(url, min_size=1, max_size=max_size)
    )
    try:
        yield pool
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def client_on(stack: LiveStack, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a stack's web server, with these headers (a bearer token, say) on every request."""
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15, headers=headers) as client:
        yield client
