"""The queues a person resolves: unrouted events (the command centre of the area) and dead letters (administrators)."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query, Request

from core import topics
from core.queues import DeadLetterResolution, UnroutedResolution
from dispatch import queue_resolution, read_models
from dispatch.http_auth import Admin, CommandCentre
from dispatch.queue_resolution import CannotReplay, NotQueued, Publish, Resolved
from web.settings import WebSettings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/queues", tags=["queues"])
Limit = Annotated[int, Query(ge=1, le=1000)]
RESOLVE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such item waiting within your area"},
    409: {"description": "the item cannot be replayed"},
}


@router.get("/unrouted")
async def unrouted_queue(request: Request, caller: CommandCentre, limit: Limit = 200) -> list[dict[str, Any]]:
    """Accepted events in the caller's area that no grid or rule could place, waiting for a person."""
    return await read_models.unrouted(request.app.state.pool, caller.area, limit)


@router.get("/unrouted/resolved")
async def unrouted_resolved(request: Request, caller: CommandCentre, limit: Limit = 100) -> list[dict[str, Any]]:
    """Unrouted events of the caller's area already resolved: who, when, how and why."""
    return await queue_resolution.resolved_unrouted(request.app.state.pool, caller.area, limit)


@router.post("/unrouted/{event_id}/resolution", responses=RESOLVE_ERRORS)
async def resolve_unrouted(
    event_id: UUID, body: UnroutedResolution, request: Request, caller: CommandCentre
) -> dict[str, str]:
    """Route the event again (after fixing its grid, people or rules) or dismiss it with a note.

    A retried event that still finds no route comes back to the queue with the new reason."""
    try:
        done = await queue_resolution.resolve_unrouted(
            request.app.state.pool, event_id, caller.area, caller.username, body.action, body.note, _publisher(request)
        )
    except NotQueued as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return _answer(done, caller.username)


@router.get("/deadletter")
async def dead_letter_queue(request: Request, caller: Admin, limit: Limit = 200) -> list[dict[str, Any]]:
    """Records no processor could read or trust, with the reason, waiting for an administrator."""
    return await read_models.dead_letters(request.app.state.pool, limit)


@router.get("/deadletter/resolved")
async def dead_letters_resolved(request: Request, caller: Admin, limit: Limit = 100) -> list[dict[str, Any]]:
    """Dead letters already resolved: who, when, how and why."""
    return await queue_resolution.resolved_dead_letters(request.app.state.pool, limit)


@router.post("/deadletter/{letter_id}/resolution", responses=RESOLVE_ERRORS)
async def resolve_dead_letter(
    letter_id: Annotated[int, Path(ge=1, le=2**62)], body: DeadLetterResolution, request: Request, caller: Admin
) -> dict[str, str]:
    """Replay the record to its topic (after the fault is fixed) or dismiss it with a note."""
    try:
        done = await queue_resolution.resolve_dead_letter(
            request.app.state.pool, letter_id, caller.username, body.action, body.note, _publisher(request)
        )
    except NotQueued as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except CannotReplay as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return _answer(done, caller.username)


def _publisher(request: Request) -> Publish:
    settings: WebSettings = request.app.state.settings

    async def publish(topic: str | None, key: bytes | None, value: bytes) -> None:
        await request.app.state.commands.republish(topic or settings.topic(topics.EVENTS.name), key, value)

    return publish


def _answer(done: Resolved, by: str) -> dict[str, str]:
    log.info("queue item %s %s by %s", done.item_id, done.resolution, by)
    return {"id": done.item_id, "resolution": done.resolution, "resolved_by": by}
