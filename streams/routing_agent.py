"""locate_and_route: screen each field event, then open a case, attach it to one, queue it, or log the patrol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from faust.types import EventT, StreamT, TopicT

from core.cases import AttachEvent, OpenCase
from core.events import EventEnvelope
from core.queues import UnroutedEvent
from core.registry import MalformedRecord, UnknownEventType, dump, parse_event
from dispatch.clock import local_day
from dispatch.queues import store as queue_store
from dispatch.routing import quarantine, screening
from dispatch.routing.decision import PatrolEntry, decide
from dispatch.routing.duplicates import DuplicatePolicy, RecentOpens
from streams.context import StreamContext
from streams.dead_letters import DeadLetters


class Router:
    """The agent on the events topic; it remembers the cases it opened and the events it placed lately."""

    def __init__(self, ctx: StreamContext, dead: DeadLetters, commands: TopicT, unrouted: TopicT) -> None:
        self.ctx, self.dead, self.commands, self.unrouted = ctx, dead, commands, unrouted
        window = timedelta(minutes=ctx.settings.duplicate_window_minutes)
        self.recent = RecentOpens(DuplicatePolicy(ctx.settings.duplicate_radius_m, window))
        self.placed = quarantine.RecentSightings()

    async def run(self, stream: StreamT[Any]) -> None:
        """Locate each event in its grid, route it, and emit a case command (or queue it for a person)."""
        async for event in stream.events():
            field_event = await self._parse(event)
            if field_event is not None:
                await self._route(event, field_event)

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

    async def _route(self, event: EventT[Any], field_event: EventEnvelope) -> None:
        """Quarantine the event, or send on what routing decided."""
        ctx = self.ctx
        snap, now = await ctx.snapshot(), datetime.now(UTC)
        pool = await ctx.pool()
        reason = await screening.screen_event(pool, field_event, snap, local_day(now), self.placed)
        if reason is not None:
            ctx.counters["quarantined_events"] += 1
            await self.dead.send(event, reason)
            return
        decision = decide(field_event, snap, now)
        if isinstance(decision, OpenCase):
            command = await screening.unless_duplicate(pool, decision, field_event.model_dump(mode="json"), self.recent)
            if isinstance(command, AttachEvent):
                ctx.counters["duplicates_attached"] += 1
            await self.commands.send(key=str(command.case_id).encode(), value=dump(command))
        elif isinstance(decision, UnroutedEvent):
            await self.unrouted.send(key=str(decision.event_id).encode(), value=dump(decision))
        elif isinstance(decision, PatrolEntry):
            await queue_store.add_patrol(pool, decision)
        ctx.counters["events"] += 1
