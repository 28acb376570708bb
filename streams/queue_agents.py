"""unrouted_queue and dead_letter_queue: keep the queues people work through in PostGIS and tell the command centre."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

from faust.types import EventT, StreamT, TopicT
from pydantic import ValidationError

from core.queues import DeadLetter, QueueChange, UnroutedEvent
from core.registry import dump
from dispatch.queues import queries as queue_queries
from dispatch.queues import store as queue_store
from streams.context import StreamContext, or_exit
from streams.dead_letters import DeadLetters

log = logging.getLogger(__name__)


class QueueAgents:
    """The agents on the unrouted and dead-letter topics; both announce each new item on the queue changes topic."""

    def __init__(self, ctx: StreamContext, dead: DeadLetters, queue_changes: TopicT) -> None:
        self.ctx, self.dead, self.queue_changes = ctx, dead, queue_changes

    async def unrouted(self, stream: StreamT[Any]) -> None:
        """Keep the unrouted queue in PostGIS and tell the command centre."""
        async for event in stream.events():
            with or_exit("unrouted queue"):
                await self._unrouted(event)

    async def dead_letters(self, stream: StreamT[Any]) -> None:
        """Keep the dead-letter queue in PostGIS and tell the command centre."""
        async for event in stream.events():
            with or_exit("dead-letter queue"):
                await self._dead_letter(event)

    async def _unrouted(self, event: EventT[Any]) -> None:
        """Store one unrouted event (a malformed record goes to the dead letters) and announce it."""
        try:
            item = UnroutedEvent.model_validate_json(event.value)
        except ValidationError as exc:
            await self.dead.send(event, f"malformed unrouted record: {exc.errors()[0]['msg']}")
            return
        await self.ctx.retrying("unrouted queue", partial(queue_store.add_unrouted, item=item))
        item_id = str(item.event_id)
        region = await self.ctx.retrying(
            "unrouted queue", partial(queue_queries.township_of_unrouted, event_id=item_id)
        )
        notice = QueueChange(queue="unrouted", item_id=item_id, at=datetime.now(UTC), region=region)
        await self.queue_changes.send(key=b"unrouted", value=dump(notice))

    async def _dead_letter(self, event: EventT[Any]) -> None:
        """Store one dead letter and announce it; a record here that is no dead letter becomes one (readable, so
        this happens once)."""
        try:
            item = DeadLetter.model_validate_json(event.value)
        except ValidationError as exc:
            await self.dead.send(event, f"malformed dead letter: {exc.errors()[0]['msg']}")
            return
        await self.ctx.retrying("dead-letter queue", partial(queue_store.add_dead_letter, item=item))
        notice = QueueChange(
            queue="deadletter",
            item_id=f"{item.source_topic}:{item.partition}:{item.offset}",
            at=datetime.now(UTC),
        )
        await self.queue_changes.send(key=b"deadletter", value=dump(notice))
