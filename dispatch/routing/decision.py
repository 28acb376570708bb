"""Turn one field event into what happens next: a case to open, a patrol entry, or the unrouted queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from core.cases import Actor, Assignee, CaseSource, OpenCase, case_id_for_event
from core.events import EventEnvelope, Patrol
from core.queues import UnroutedEvent
from dispatch.clock import local_day
from dispatch.routing.model import GridRef
from dispatch.routing.rules import NoRoute, route, unit_chain
from dispatch.routing.self_report import self_reported
from dispatch.routing.snapshot import RoutingSnapshot

ROUTER = Actor(id="system:router", role="system")


@dataclass(frozen=True)
class PatrolEntry:
    """A patrol that found nothing: recorded in the patrol log, no case."""

    event_id: UUID
    reporter_id: str
    grid_code: str | None
    lon: float
    lat: float
    occurred_at: datetime
    description: str


Decision = OpenCase | UnroutedEvent | PatrolEntry


def decide(event: EventEnvelope, snapshot: RoutingSnapshot, now: datetime) -> Decision:
    """Locate the event in its grid and route it; anything that cannot be placed goes to a person."""
    day = local_day(event.occurred_at)
    return decide_located(event, snapshot.index.locate(event.location.lon, event.location.lat, day), snapshot, now)


def decide_located(event: EventEnvelope, grid: GridRef | None, snapshot: RoutingSnapshot, now: datetime) -> Decision:
    """Route an event already located (in the grid covering it on the day it happened, or none)."""
    etype = event.type
    day = local_day(event.occurred_at)
    if isinstance(event, Patrol) and event.found_nothing:
        return PatrolEntry(
            event.event_id,
            event.reporter.id,
            grid.code if grid else None,
            event.location.lon,
            event.location.lat,
            event.occurred_at,
            event.description,
        )
    if grid is None:
        return _unrouted(event, etype, "outside every grid", now)
    responsible = snapshot.index.current(grid.code, local_day(now))
    if responsible is None:
        return _unrouted(event, etype, f"grid {grid.code} has no successor today", now)
    grid = responsible
    if not snapshot.categories.knows(event.category):
        return _unrouted(event, etype, f"category {event.category} is not in the category table", now)
    try:
        routing = route(grid, snapshot.book, snapshot.directory, etype, event.category, event.severity, day)
    except NoRoute as exc:
        return _unrouted(event, etype, str(exc), now)
    policy = snapshot.self_report.for_units(unit_chain(grid))
    routing, policy = self_reported(routing, event.reporter.id, grid, snapshot.directory, policy)
    priority = routing.rule.priority or event.severity
    return OpenCase(
        command_id=event.event_id,
        case_id=case_id_for_event(event.event_id),
        issued_at=now,
        actor=ROUTER,
        source=source_of(event),
        grid_code=grid.code,
        grid_name=grid.name,
        village_code=grid.village_code,
        township_code=grid.township_code,
        township_name=grid.township_name,
        assignee=Assignee(
            kind=routing.party.kind, id=routing.party.id, name=routing.party.name, fallback=routing.fallback
        ),
        rule_id=routing.rule.id,
        priority=priority,
        due_at=event.reported_at + timedelta(hours=routing.rule.sla_hours),
        sla=snapshot.slas.for_case(unit_chain(grid), event.category, priority, day),
        self_report=policy,
    )


def source_of(event: EventEnvelope) -> CaseSource:
    """The facts of the event a case is opened from (a sensor alert's device too)."""
    return CaseSource(
        event_id=event.event_id,
        event_type=event.type,
        category=event.category,
        severity=event.severity,
        description=event.description,
        location=event.location,
        reporter_id=event.reporter.id,
        occurred_at=event.occurred_at,
        reported_at=event.reported_at,
        media=tuple(event.media),
        device_id=getattr(event, "device_id", None),
    )


def _unrouted(event: EventEnvelope, etype: str, reason: str, now: datetime) -> UnroutedEvent:
    return UnroutedEvent(
        event_id=event.event_id,
        type=etype,
        category=event.category,
        lon=event.location.lon,
        lat=event.location.lat,
        reason=reason,
        description=event.description,
        received_at=now,
        event=event.model_dump(mode="json"),
    )
