"""What the agents share: settings, the database pool, and the current routing snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast

import asyncpg
from faust.streams import Stream
from faust.types import EventT, StreamT

from dispatch.cases.signing import CommandSigner
from dispatch.clock import local_day
from dispatch.db import DATABASE_FAULTS, create_pool
from dispatch.routing.snapshot import RoutingSnapshot
from dispatch.routing.snapshot_store import load_snapshot
from streams.settings import StreamSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_RETRY_DELAY_S = 5.0


class StreamContext:
    """Lazily opened resources of the worker; the snapshot is swapped whole on reload. The signer signs the
    system's commands and verifies every command the worker acts on."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self.signer = CommandSigner.of(settings)
        self.counters: Counter[str] = Counter()
        self._pool: asyncpg.Pool | None = None
        self._snapshot: RoutingSnapshot | None = None
        self._lock = asyncio.Lock()
        self.loaded_on: date | None = None

    async def pool(self) -> asyncpg.Pool:
        """The database pool, opened on first use."""
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await create_pool(self.settings.database_url, max_size=self.settings.db_pool_size)
        return self._pool

    async def snapshot(self) -> RoutingSnapshot:
        """The routing snapshot, loaded on first use."""
        if self._snapshot is None:
            await self.reload("first use")
        assert self._snapshot is not None
        return self._snapshot

    async def reload(self, reason: str) -> RoutingSnapshot:
        """Load a fresh snapshot and swap it in; events in flight keep the one they started with."""
        day = local_day(datetime.now(UTC))
        snapshot = await self.retrying("loading the routing snapshot", lambda pool: load_snapshot(pool, day))
        self._snapshot = snapshot
        self.loaded_on = local_day(datetime.now(UTC))
        self.counters["registry_reloads"] += 1
        log.info(
            "routing snapshot loaded (%s): %d grids, revision %d", reason, len(snapshot.index), snapshot.index.revision
        )
        return snapshot

    async def retrying(self, what: str, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
        """Run database work, waiting out a database that restarts (with backoff) instead of crashing the worker.

        The batch being worked on is not acknowledged meanwhile, so nothing is lost; work given here must be safe
        to run again (it is: every write is idempotent)."""
        delay = 0.2
        while True:
            try:
                return await work(await self.pool())
            except DATABASE_FAULTS as exc:
                self.counters["database_retries"] += 1
                log.warning("%s: the database is unavailable (%s); retrying in %.1f s", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_S)

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def batches(stream: StreamT[Any], settings: StreamSettings) -> AsyncIterator[Sequence[EventT[Any]]]:
    """The stream's events a batch at a time (up to `batch_max`, or what came within `batch_within_s`).

    faust acknowledges a batch's events when the next batch is asked for, so offsets are committed only after the
    agent's work on the batch (its database transaction, its sends) is done."""
    return cast("Stream[Any]", stream).take_events(settings.batch_max, within=settings.batch_within_s)


EXIT_SOFTWARE = 70
"""The exit status of a worker that stopped on an error it cannot handle (sysexits' EX_SOFTWARE)."""


@contextlib.contextmanager
def or_exit(what: str) -> Iterator[None]:
    """Run an agent's work on a record or batch; on an error nothing here can handle, end the worker at once.

    faust would acknowledge the records of a crashed agent and go on, losing them. Ending the process skips the
    commit, so the supervisor's restarted worker reads them again from the last committed offset; outputs already
    sent are harmless again (every write is idempotent)."""
    try:
        yield
    except Exception:
        log.critical("%s failed; the worker exits so its records are read again after the restart", what, exc_info=True)
        logging.shutdown()
        os._exit(EXIT_SOFTWARE)
