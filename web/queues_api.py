"""The queues a person resolves: unrouted events (the command centre of the area) and dead letters (administrators)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from core import topics
from core.queues import DeadLetterResolution, QueueChange, UnroutedResolution
from core.registry import dump
from dispatch.access.http_auth import Admin, CommandCentre
from dispatch.queues import queries as queues_queries
from dispatch.queues import resolution as queue_resolution
from dispatch.queues.resolution import Publish, Resolution
from web.settings import WebSettings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/queues", tags=["queues"])
Limit = Annotated[int, Query(ge=1, le=1000)]


class UnroutedItem(BaseModel):
    """An accepted event no grid or rule could place."""

    event_id: UUID
    type: str
    category: str
    description: str
    lon: float
    lat: float
    reason: str
    received_at: datetime


class DeadLetterItem(BaseModel):
    """A record no processor could read or trust, with where it came from."""

    id: int
    source_topic: str
    partition: int
    offset: int
    key: str | None
    reason: str
    raw: str
    received_at: datetime


class QueueDecision(BaseModel):
    """Who decided what about a queue item, when and why."""

    resolved_at: datetime
    resolved_by: str
    resolution: Resolution
    note: str | None


class ResolvedUnrouted(QueueDecision):
    """A decision on an unrouted event, with the event; `waiting_again` when a retry found no route either."""

    event_id: UUID
    type: str
    category: str
    description: str
    reason: str
    received_at: datetime
    waiting_again: bool


class ResolvedDeadLetter(QueueDecision):
    """A decision on a dead letter, with the letter."""

    id: int
    source_topic: str
    partition: int
    offset: int
    reason: str
    received_at: datetime


class Resolved(BaseModel):
    """The answer to a resolution."""

    id: str
    resolution: Resolution
    resolved_by: str


RESOLVE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such item waiting within your area"},
    409: {"description": "the item cannot be replayed"},
}


@router.get("/unrouted", response_model=list[UnroutedItem])
async def unrouted_queue(request: Request, caller: CommandCentre, limit: Limit = 200) -> list[dict[str, Any]]:
    """Accepted events in the caller's area that no grid or rule could place, waiting for a person."""
    return await queues_queries.unrouted(request.app.state.pool, caller.area, limit)


@router.get("/unrouted/resolved", response_model=list[ResolvedUnrouted])
async def unrouted_resolved(request: Request, caller: CommandCentre, limit: Limit = 100) -> list[dict[str, Any]]:
    """Unrouted events of the caller's area already resolved: who, when, how and why."""
    return await queue_resolution.resolved_unrouted(request.app.state.pool, caller.area, limit)


@router.post("/unrouted/{event_id}/resolution", response_model=Resolved, responses=RESOLVE_ERRORS)
async def resolve_unrouted(
    event_id: UUID, body: UnroutedResolution, request: Request, caller: CommandCentre
) -> Resolved:
    """Route the event again (after fixing its grid, people or rules) or dismiss it with a note.

    A retried event that still finds no route comes back to the queue with the new reason."""
    done = await queue_resolution.resolve_unrouted(
        request.app.state.pool, event_id, caller.area, caller.username, body.action, body.note, _publisher(request)
    )
    return await _answer(request, "unrouted", done.item_id, done.resolution, caller.username)


@router.get("/deadletter", response_model=list[DeadLetterItem])
async def dead_letter_queue(request: Request, caller: Admin, limit: Limit = 200) -> list[dict[str, Any]]:
    """Records no processor could read or trust, with the reason, waiting for an administrator."""
    return await queues_queries.dead_letters(request.app.state.pool, limit)


@router.get("/deadletter/resolved", response_model=list[ResolvedDeadLetter])
async def dead_letters_resolved(request: Request, caller: Admin, limit: Limit = 100) -> list[dict[str, Any]]:
    """Dead letters already resolved: who, when, how and why."""
    return await queue_resolution.resolved_dead_letters(request.app.state.pool, limit)


@router.post("/deadletter/{letter_id}/resolution", response_model=Resolved, responses=RESOLVE_ERRORS)
async def resolve_dead_letter(
    letter_id: Annotated[int, Path(ge=1, le=2**62)], body: DeadLetterResolution, request: Request, caller: Admin
) -> Resolved:
    """Replay the record to its topic (after the fault is fixed) or dismiss it with a note."""
    done = await queue_resolution.resolve_dead_letter(
        request.app.state.pool, letter_id, caller.username, body.action, body.note, _publisher(request)
    )
    return await _answer(request, "deadletter", done.item_id, done.resolution, caller.username)


def _publisher(request: Request) -> Publish:
    settings: WebSettings = request.app.state.settings

    async def publish(topic: str | None, key: bytes | None, value: bytes) -> None:
        await request.app.state.commands.republish(topic or settings.topic(topics.EVENTS.name), key, value)

    return publish


async def _answer(
    request: Request, queue: Literal["unrouted", "deadletter"], item: str, how: Resolution, by: str
) -> Resolved:
    """Log the decision and tell every command centre, so their lists drop the item at once."""
    log.info("queue item %s %s by %s", item, how, by)
    settings: WebSettings = request.app.state.settings
    region = await queues_queries.township_of_unrouted(request.app.state.pool, item) if queue == "unrouted" else None
    notice = QueueChange(queue=queue, item_id=item, at=datetime.now(UTC), change="resolved", region=region)
    try:
        await request.app.state.commands.republish(
            settings.topic(topics.QUEUE_CHANGES.name), queue.encode(), dump(notice)
        )
    except (KafkaError, TimeoutError) as exc:
        # The decision is stored; other screens see it at their next read of the queue.
        log.warning("could not announce the resolution of %s: %s", item, exc)
    return Resolved(id=item, resolution=how, resolved_by=by)
