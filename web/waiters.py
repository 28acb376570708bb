"""Requests waiting for the case writer to apply their command, woken by the change it publishes.

The live hub reads every change on `case.changes` (each web process with a consumer of its own, on all
partitions), and a change names the command that made it, so a request registers its command id before it
publishes the command and waits on a future instead of polling the database. A refused command's change is the
case unchanged (marked refused); a quarantined command publishes none, so its request waits out its time and then
reads the outcome once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from uuid import UUID

from core.case_views import CaseChange


class CommandWaiters:
    """Futures by command id, at most `limit` of them; a resent command's requests share one."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._futures: dict[UUID, asyncio.Future[CaseChange]] = {}
        self._holders: dict[UUID, int] = {}
        self.full = 0

    def __len__(self) -> int:
        return len(self._futures)

    @contextlib.contextmanager
    def expect(self, command_id: UUID) -> Iterator[asyncio.Future[CaseChange] | None]:
        """A future the command's change resolves, registered for the block; None when too many already wait."""
        future = self._futures.get(command_id)
        if future is None:
            if len(self._futures) >= self._limit:
                self.full += 1
                yield None
                return
            future = asyncio.get_running_loop().create_future()
            self._futures[command_id] = future
        self._holders[command_id] = self._holders.get(command_id, 0) + 1
        try:
            yield future
        finally:
            self._holders[command_id] -= 1
            if not self._holders[command_id]:
                del self._holders[command_id], self._futures[command_id]

    def resolve(self, change: CaseChange) -> bool:
        """Wake the requests waiting for the change's command; whether there were any."""
        future = self._futures.get(change.command_id) if change.command_id is not None else None
        if future is None or future.done():
            return False
        future.set_result(change)
        return True


async def settled(future: asyncio.Future[CaseChange] | None, within: float) -> CaseChange | None:
    """The change once it arrives, or None when `within` seconds pass first (or nothing can arrive)."""
    if future is None:
        return None
    done, _ = await asyncio.wait({future}, timeout=within)
    return future.result() if done else None
