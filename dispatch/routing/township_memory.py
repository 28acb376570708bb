"""Duplicate memory owned by partitions: each township's recent open cases, rebuilt on assignment, dropped on revoke.

Routed events are keyed by township, so one partition holds everything a township's duplicate check needs and no
memory is shared across townships or workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from core.cases import AttachEvent, OpenCase
from core.routed import RoutedEvent
from dispatch.routing.duplicates import DuplicatePolicy, Opened, RecentOpens
from dispatch.routing.screening import duplicate_decision

RECENT_OPEN = """
SELECT township_code, id, category, ST_X(location) AS lon, ST_Y(location) AS lat, opened_at, updated_at,
       detail->'events'->0->'source'->>'device_id' AS device
FROM cases
WHERE township_code = ANY($1::text[]) AND closed_at IS NULL AND (opened_at >= $2 OR (updated_at >= $3
      AND detail->'events'->0->'source'->>'device_id' IS NOT NULL))
ORDER BY opened_at
"""

SPLIT_OFF = "SELECT event_id FROM case_events WHERE event_id = ANY($1::uuid[]) AND split_at IS NOT NULL"


class TownshipMemory:
    """One RecentOpens per township, grouped by the partition it arrived on."""

    def __init__(self, policy: DuplicatePolicy) -> None:
        self.policy = policy
        self._partitions: dict[int, dict[str, RecentOpens]] = {}
        self._revoked: set[int] = set()

    def missing(self, wanted: Iterable[tuple[int, str]]) -> set[str]:
        """The townships among (partition, township) pairs whose memory must be rebuilt first."""
        return {town for part, town in wanted if town not in self._partitions.get(part, {})}

    def rebuild(self, partition: int, township: str, opens: Iterable[Opened]) -> RecentOpens:
        """The township's memory from the open cases on record (oldest first)."""
        recent = RecentOpens(self.policy)
        for opened in opens:
            recent.remember(opened)
        self._partitions.setdefault(partition, {})[township] = recent
        return recent

    def of(self, partition: int, township: str) -> RecentOpens:
        """The memory of a township this worker holds (rebuilt before use)."""
        return self._partitions[partition][township]

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget what partitions held: revoked ones, and newly assigned ones whose memory is stale."""
        for partition in partitions:
            self._partitions.pop(partition, None)

    def revoke(self, partitions: Iterable[int]) -> None:
        """A rebalance begins (every partition is revoked): memory is kept until it is known which partitions stay."""
        self._revoked.update(partitions)

    def assign(self, partitions: Iterable[int]) -> None:
        """The rebalance ends with these partitions here. A partition that went elsewhere is forgotten; one kept keeps
        its memory, which holds the cases it opened whose writer may not have stored them yet (that writer may be the
        worker that left), so a rebuild from the database would miss them and let their duplicates open cases."""
        self.drop(self._revoked - set(partitions))
        self._revoked.clear()

    def townships(self) -> int:
        """How many townships are in memory."""
        return sum(len(towns) for towns in self._partitions.values())


def deduplicate(
    routed: Sequence[tuple[int, RoutedEvent]], memory: TownshipMemory, split: set[UUID]
) -> list[OpenCase | AttachEvent]:
    """Per routed event, in order: attach it to a near, recent open case of its township, or open its own case."""
    decisions: list[OpenCase | AttachEvent] = []
    for partition, item in routed:
        command, src = item.command, item.command.source
        recent = memory.of(partition, item.township)
        lon, lat, at = src.location.lon, src.location.lat, command.issued_at
        folded = recent.storm(src.device_id, src.category, at) if src.device_id else None
        found = recent.near(src.category, lon, lat, at)
        is_split = src.event_id in split
        decision = duplicate_decision(command, item.event, memory.policy, found, split=is_split, folded=folded)
        if isinstance(decision, OpenCase):
            recent.remember(Opened(command.case_id, src.category, lon, lat, at, src.device_id))
        elif src.device_id:
            recent.seen(src.device_id, src.category, decision.case_id, at)
        decisions.append(decision)
    return decisions


async def recent_opens(
    pool: asyncpg.Pool, townships: Iterable[str], since: datetime, storms_since: datetime
) -> dict[str, list[Opened]]:
    """Open cases of these townships opened since a moment, and devices' cases with an alert since `storms_since`,
    oldest first, in one query."""
    rows = await pool.fetch(RECENT_OPEN, sorted(townships), since, storms_since)
    found: dict[str, list[Opened]] = {}
    for r in rows:
        category, device, seen = r["category"], r["device"], r["updated_at"]
        opened = Opened(r["id"], category, r["lon"], r["lat"], r["opened_at"], device, seen if device else None)
        found.setdefault(r["township_code"], []).append(opened)
    return found


async def split_off(pool: asyncpg.Pool, event_ids: Iterable[UUID]) -> set[UUID]:
    """Which of these events a person split off a case (so they open a case of their own), in one query."""
    return {r["event_id"] for r in await pool.fetch(SPLIT_OFF, list(event_ids))}
