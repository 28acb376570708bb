"""Duplicate events: a new event of the same category near a recent open case is attached to that case; an alert
storm (repeats of one device and category) folds into the device's open case."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from core.cases import AttachEvent, OpenCase

EARTH_RADIUS_M = 6_371_008.8
# A degree of longitude is at least this long south of 45°N, so a box this many degrees wide holds the circle
# (the bounding-box test uses the GiST index on cases.location; the exact distance is then on the geography).
METRES_PER_DEGREE_LOWER_BOUND = 78_000.0


@dataclass(frozen=True)
class DuplicatePolicy:
    """How near and how recent an open case must be for a new event to count as its duplicate."""

    radius_m: float
    window: timedelta
    storm_window: timedelta = timedelta(minutes=60)
    """An alert of a device and category seen within this time of the last one attaches to its open case."""


@dataclass(frozen=True)
class Opened:
    """A case this worker opened recently, before the database may have it."""

    case_id: UUID
    category: str
    lon: float
    lat: float
    at: datetime
    device: str | None = None
    last_seen: datetime | None = None
    """For a device's case: when its latest alert was seen (the storm's window runs from there)."""


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


class RecentOpens:
    """Recent open cases, found by spatial bucket so a lookup costs the same however many are remembered."""

    def __init__(self, policy: DuplicatePolicy) -> None:
        self.policy = policy
        # A bucket is at least the radius wide in both directions, so the 3×3 around a point holds every candidate.
        self._cell = max(policy.radius_m, 1.0) / METRES_PER_DEGREE_LOWER_BOUND
        self._buckets: dict[tuple[str, int, int], list[Opened]] = {}
        self._order: deque[Opened] = deque()
        self._storms: dict[tuple[str, str], tuple[UUID, datetime]] = {}

    def __len__(self) -> int:
        return len(self._order)

    def _bucket(self, category: str, lon: float, lat: float) -> tuple[str, int, int]:
        return category, math.floor(lon / self._cell), math.floor(lat / self._cell)

    def remember(self, opened: Opened) -> None:
        """Note a case just opened (or found open when the memory was rebuilt)."""
        self._buckets.setdefault(self._bucket(opened.category, opened.lon, opened.lat), []).append(opened)
        self._order.append(opened)
        if opened.device is not None:
            self.seen(opened.device, opened.category, opened.case_id, opened.last_seen or opened.at)

    def seen(self, device: str, category: str, case_id: UUID, at: datetime) -> None:
        """Note a device's alert folded into (or opening) a case."""
        self._storms[(device, category)] = (case_id, at)

    def storm(self, device: str, category: str, now: datetime) -> UUID | None:
        """The open case of a device's alerts of this category, if its last alert is within the storm window."""
        found = self._storms.get((device, category))
        if found is None:
            return None
        if found[1] < now - self.policy.storm_window:
            del self._storms[(device, category)]
            return None
        return found[0]

    def _expire(self, now: datetime) -> None:
        """Forget cases opened before the window, oldest first."""
        oldest = now - self.policy.window
        while self._order and self._order[0].at < oldest:
            gone = self._order.popleft()
            key = self._bucket(gone.category, gone.lon, gone.lat)
            bucket = self._buckets.get(key, [])
            if gone in bucket:
                bucket.remove(gone)
            if not bucket:
                self._buckets.pop(key, None)

    def near(self, category: str, lon: float, lat: float, now: datetime) -> UUID | None:
        """The nearest remembered case of this category within the radius and window, if any."""
        if self.policy.radius_m <= 0:
            return None
        self._expire(now)
        oldest = now - self.policy.window
        close = [
            (d, o.case_id)
            for o in self.candidates(category, lon, lat)
            if o.at >= oldest and (d := distance_m(lon, lat, o.lon, o.lat)) <= self.policy.radius_m
        ]
        return min(close)[1] if close else None

    def candidates(self, category: str, lon: float, lat: float) -> list[Opened]:
        """The remembered cases of the category in the 3×3 buckets around a point: all a lookup looks at."""
        _, cx, cy = self._bucket(category, lon, lat)
        return [
            o for dx in (-1, 0, 1) for dy in (-1, 0, 1) for o in self._buckets.get((category, cx + dx, cy + dy), ())
        ]


def attach_instead(command: OpenCase, case_id: UUID, raw_event: dict[str, Any]) -> AttachEvent:
    """The command that attaches the event of `command` to the existing case."""
    return AttachEvent(
        command_id=command.command_id,
        case_id=case_id,
        issued_at=command.issued_at,
        actor=command.actor,
        source=command.source,
        event=raw_event,
        fallback=command,
    )
