"""asyncpg pools with JSON codecs, and Alembic migration to head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import orjson
from alembic import command
from alembic.config import Config
from asyncpg.pool import PoolConnectionProxy

Conn = asyncpg.Connection | PoolConnectionProxy
"""A connection, whether taken from a pool or opened directly."""

DATABASE_FAULTS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError, …
    asyncpg.InterfaceError,  # the pool or connection is closed or closing
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # A pooled connection whose server was killed may fail once ("cannot switch to state 12; another operation (2)
    # is in progress", asyncpg issues 784 and 1069) before the pool replaces it.
    asyncpg.InternalClientError,
    OSError,  # ConnectionRefusedError, ConnectionResetError, TimeoutError (asyncio's, on acquire)
)
"""What a database restart raises: the caller should wait and retry; nothing is wrong with the request."""


class JsonText(str):
    """JSON already serialised (by pydantic's encoder, say), sent to a json or jsonb column as it is."""


def _encode(value: Any) -> str:
    return value if isinstance(value, JsonText) else orjson.dumps(value).decode()


async def _init(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=_encode, decoder=orjson.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (asyncpg has already rolled back an open transaction by then)."""


async def create_pool(
    database_url: str, min_size: int = 1, max_size: int = 10, session_reset: bool = False
) -> asyncpg.Pool:
    """A connection pool that reads and writes JSON columns as Python values.

    By default a connection goes back to the pool without asyncpg's reset query (`pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`): one round trip saved on every release. That is right only while the pool's
    users leave no session state behind: no LISTEN, no session advisory lock, no SET (SET LOCAL is fine), no
    cursor outside a transaction. asyncpg still rolls back a transaction left open. A pool whose users do keep
    session state asks for `session_reset=True`.
    """
    pool: asyncpg.Pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init,
        command_timeout=30,
        reset=None if session_reset else _keep_session,
    )
    return pool


def alembic_config(sqlalchemy_url: str | None = None) -> Config:
    """The Alembic configuration of this package, optionally pointed at a given database."""
    cfg = Config(str(Path(__file__).with_name("alembic.ini")))
    if sqlalchemy_url:
        cfg.attributes["url"] = sqlalchemy_url
    return cfg


def migrate(sqlalchemy_url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(sqlalchemy_url), revision)


def record_to_dict(record: asyncpg.Record) -> dict[str, Any]:
    """A row as a plain dict."""
    return dict(record.items())
