"""locate_and_route: a batch of field events located at once, screened, and routed: a case to open goes on keyed by
its township, an event no one can take to the unrouted queue, a patrol that found nothing to the patrol log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from faust.types import EventT, StreamT, TopicT

from core.cases import OpenCase
from core.events import EventEnvelope
from core.queues import UnroutedEvent
from core.registry import MalformedRecord, UnknownEventType, dump, parse_event
from core.routed import RoutedEvent
from dispatch.clock import local_day
from dispatch.queues import store as queue_store
from dispatch.routing import placement, quarantine
from dispatch.routing.decision import PatrolEntry
from dispatch.routing.sightings import sightings_many
from streams.context import StreamContext, batches, or_exit
from streams.dead_letters import DeadLetters


class Router:
    """The agent on the events topic (keyed by event id); it remembers the event ids it placed lately."""

    def __init__(self, ctx: StreamContext, dead: DeadLetters, routed: TopicT, unrouted: TopicT) -> None:
        self.ctx, self.dead, self.routed, self.unrouted = ctx, dead, routed, unrouted
        self.placed = quarantine.RecentSightings()

    async def run(self, stream: StreamT[Any]) -> None:
        """Route the events a batch at a time; the batch is acknowledged once its outputs are sent."""
        async for batch in batches(stream, self.ctx.settings):
            with or_exit("locate and route"):
                await self.route(batch)

    async def route(self, batch: Sequence[EventT[Any]]) -> None:
        """Parse, place and settle a batch: one spatial query, at most one query for ids on record, one for patrols."""
        parsed = [(event, found) for event in batch if (found := await self._parse(event)) is not None]
        if not parsed:
            return
        snap, now = await self.ctx.snapshot(), datetime.now(UTC)
        placed = placement.place([found for _, found in parsed], snap, local_day(now))
        ids = [p.event.event_id for p in placed if p.needs_sightings]
        seen = await self.ctx.retrying("ids on record", lambda pool: sightings_many(pool, ids)) if ids else {}
        patrols: list[PatrolEntry] = []
        for (event, _), settled in zip(parsed, placement.settle(placed, snap, now, seen, self.placed), strict=True):
            await self._send(event, settled, patrols)
        if patrols:
            await self.ctx.retrying("patrol log", lambda pool: queue_store.add_patrols(pool, patrols))
        self.ctx.counters["events"] += len(parsed)

    async def _send(self, event: EventT[Any], settled: placement.Settled, patrols: list[PatrolEntry]) -> None:
        """Send on what became of one event."""
        decision = settled.decision
        if settled.quarantined is not None:
            self.ctx.counters["quarantined_events"] += 1
            await self.dead.send(event, settled.quarantined)
        elif isinstance(decision, OpenCase):
            signed = self.ctx.signer.sign(decision)
            routed = RoutedEvent(command=signed, event=settled.event.model_dump(mode="json"))
            await self.routed.send(key=routed.township.encode(), value=dump(routed))
        elif isinstance(decision, UnroutedEvent):
            await self.unrouted.send(key=str(decision.event_id).encode(), value=dump(decision))
        elif isinstance(decision, PatrolEntry):
            patrols.append(decision)

    async def _parse(self, event: EventT[Any]) -> EventEnvelope | None:
        """The field event in the record, or None once the record is dead-lettered."""
        raw = event.value
        if not isinstance(raw, bytes) or len(raw) > self.ctx.settings.max_record_bytes:
            await self.dead.send(event, "record too large or empty")
            return None
        try:
            return parse_event(raw)
        except UnknownEventType as exc:
            self.ctx.counters["unknown_types"] += 1
            await self.dead.send(event, quarantine.unknown_type(str(exc)))
        except MalformedRecord as exc:
            await self.dead.send(event, str(exc))
        return None
