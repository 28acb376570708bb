"""Duplicate events: a new event of the same category near a recent open case is attached to that case."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from core.cases import AttachEvent, OpenCase
from core.vocabulary import Category

EARTH_RADIUS_M = 6_371_008.8
# A degree of longitude is at least this long south of 45°N, so a box this many degrees wide holds the circle
# (the bounding-box test uses the GiST index on cases.location; the exact distance is then on the geography).
METRES_PER_DEGREE_LOWER_BOUND = 78_000.0

NEAREST_OPEN = """
SELECT id FROM cases
WHERE category = $1 AND closed_at IS NULL AND opened_at >= $5
  AND location && ST_Expand(ST_SetSRID(ST_MakePoint($2, $3), 4326), $6)
  AND ST_DWithin(location::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, $4)
ORDER BY location::geography <-> ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography
LIMIT 1
"""


@dataclass(frozen=True)
class DuplicatePolicy:
    """How near and how recent an open case must be for a new event to count as its duplicate."""

    radius_m: float
    window: timedelta


@dataclass(frozen=True)
class Opened:
    """A case this worker opened recently, before the database may have it."""

    case_id: UUID
    category: Category
    lon: float
    lat: float
    at: datetime


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


class RecentOpens:
    """Cases opened in the last window by this worker: covers the gap before the case writer has stored them."""

    def __init__(self, policy: DuplicatePolicy) -> None:
        self.policy = policy
        self._items: deque[Opened] = deque()

    def remember(self, opened: Opened) -> None:
        """Note a case just opened."""
        self._items.append(opened)

    def near(self, category: Category, lon: float, lat: float, now: datetime) -> UUID | None:
        """The nearest remembered case of this category within the radius, if any."""
        while self._items and self._items[0].at < now - self.policy.window:
            self._items.popleft()
        box = self.policy.radius_m / METRES_PER_DEGREE_LOWER_BOUND
        close = [
            (distance_m(lon, lat, o.lon, o.lat), o.case_id)
            for o in self._items
            if abs(o.lat - lat) <= box and abs(o.lon - lon) <= box and o.category == category
        ]
        close = [c for c in close if c[0] <= self.policy.radius_m]
        return min(close)[1] if close else None


async def open_case_near(
    pool: asyncpg.Pool, policy: DuplicatePolicy, category: Category, lon: float, lat: float, now: datetime
) -> UUID | None:
    """The nearest open case of this category within the radius, opened within the window."""
    box = policy.radius_m / METRES_PER_DEGREE_LOWER_BOUND
    found: UUID | None = await pool.fetchval(
        NEAREST_OPEN, category.value, lon, lat, policy.radius_m, now - policy.window, box
    )
    return found


async def was_split(pool: asyncpg.Pool, event_id: UUID) -> bool:
    """Whether a person split this event off a case (so it must open a case of its own)."""
    found = await pool.fetchval("SELECT 1 FROM case_events WHERE event_id = $1 AND split_at IS NOT NULL", event_id)
    return found is not None


def attach_instead(command: OpenCase, case_id: UUID, raw_event: dict[str, Any]) -> AttachEvent:
    """The command that attaches the event of `command` to the existing case."""
    return AttachEvent(
        command_id=command.command_id,
        case_id=case_id,
        issued_at=command.issued_at,
        actor=command.actor,
        source=command.source,
        event=raw_event,
    )
