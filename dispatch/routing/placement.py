"""A batch of field events placed at once: located with one vectorised query, screened, and routed. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from core.events import EventEnvelope
from dispatch.clock import local_day
from dispatch.routing.decision import Decision, decide_located
from dispatch.routing.model import GridRef
from dispatch.routing.quarantine import RecentSightings, Sighting, foreign_reporter, forged_id, places_of
from dispatch.routing.snapshot import RoutingSnapshot


@dataclass(frozen=True)
class Placed:
    """An event with the grid covering it on its day, the townships it lies in, and a reporter's objection."""

    event: EventEnvelope
    grid: GridRef | None
    where: frozenset[str]
    foreign: str | None

    @property
    def needs_sightings(self) -> bool:
        """Whether events on record under its id can decide (it lies in a township and its reporter passes)."""
        return bool(self.where) and self.foreign is None


@dataclass(frozen=True)
class Settled:
    """What becomes of one event: quarantined with a reason, or routed to a decision."""

    event: EventEnvelope
    quarantined: str | None = None
    decision: Decision | None = None


def place(events: Sequence[EventEnvelope], snap: RoutingSnapshot, today: date) -> list[Placed]:
    """Locate every event of the batch once, and judge its reporter against the townships it lies in."""
    points = [(e.location.lon, e.location.lat, local_day(e.occurred_at)) for e in events]
    placed = []
    for event, grid in zip(events, snap.index.locate_many(points), strict=True):
        where = places_of(snap.index, grid, today)
        placed.append(Placed(event, grid, where, foreign_reporter(event, snap.directory.people, where)))
    return placed


def settle(
    placed: Sequence[Placed],
    snap: RoutingSnapshot,
    now: datetime,
    seen: Mapping[UUID, list[Sighting]],
    recent: RecentSightings,
) -> list[Settled]:
    """Quarantine events of a foreign reporter or a forged id; route the rest, remembering the ids placed."""
    today, settled = local_day(now), []
    for p in placed:
        reason = p.foreign
        if reason is None and p.needs_sightings:
            moments_ago = recent.get(p.event.event_id)
            on_record = [*seen.get(p.event.event_id, ()), *([moments_ago] if moments_ago is not None else [])]
            reason = forged_id(p.event, p.where, on_record, snap.index, today)
            if reason is None:
                recent.remember(p.event)
        if reason is not None:
            settled.append(Settled(p.event, quarantined=reason))
        else:
            settled.append(Settled(p.event, decision=decide_located(p.event, p.grid, snap, now)))
    return settled
