"""What the agents share: settings, the database pool, and the current routing snapshot."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, date, datetime

import asyncpg

from dispatch.clock import local_day
from dispatch.db import create_pool
from dispatch.routing.snapshot import RoutingSnapshot
from dispatch.routing.snapshot_store import load_snapshot
from streams.settings import StreamSettings

log = logging.getLogger(__name__)


class StreamContext:
    """Lazily opened resources of the worker; the snapshot is swapped whole on reload."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
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
        snapshot = await load_snapshot(await self.pool(), local_day(datetime.now(UTC)))
        self._snapshot = snapshot
        self.loaded_on = local_day(datetime.now(UTC))
        self.counters["registry_reloads"] += 1
        log.info(
            "routing snapshot loaded (%s): %d grids, revision %d", reason, len(snapshot.index), snapshot.index.revision
        )
        return snapshot

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
