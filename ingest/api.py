"""The door: `POST /api/v1/events` validates, deduplicates and hands events to the broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Body, Depends, FastAPI, Request
from pydantic import BaseModel

from core.events import FieldEvent, implausible_time
from core.vocabulary import Role
from dispatch.access.http_auth import Caller, address, guard_of, rate_limit
from dispatch.access.scope import Scope
from dispatch.errors import Conflict, Forbidden, Invalid, Unavailable
from ingest import receipts
from ingest.publisher import EventPublisher
from ingest.receipts import Receipt
from ingest.settings import IngestSettings

router = APIRouter(tags=["intake"])


class Accepted(BaseModel):
    """The broker has the event; processing continues asynchronously."""

    event_id: UUID
    status: Literal["accepted"] = "accepted"


class Problem(BaseModel):
    """An error the client can act on."""

    detail: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the producer for the app's lifetime."""
    publisher = EventPublisher(IngestSettings())
    await publisher.start()
    app.state.event_publisher = publisher
    try:
        yield
    finally:
        await publisher.stop()


async def intake_limits(request: Request, caller: Caller) -> Scope:
    """Rate limits of the intake, counted before the body is read: per address, and per account (a person's
    phone has a lower limit than a gateway's)."""
    settings = guard_of(request).settings
    rate_limit(request, settings.rate_intake_per_address, "events from this address", address(request))
    rule = settings.rate_intake_per_user if caller.person_id else settings.rate_intake_per_gateway
    rate_limit(request, rule, "events from this account", caller.username)
    return caller


@router.post(
    "/api/v1/events",
    status_code=202,
    response_model=Accepted,
    responses={
        401: {"model": Problem},
        403: {"model": Problem},
        409: {"model": Problem},
        413: {"model": Problem},
        429: {"model": Problem},
        503: {"model": Problem},
    },
    summary="Report a field event (patrol, incident, enforcement lead, citizen report, sensor alert)",
)
async def post_event(
    event: Annotated[FieldEvent, Body()], request: Request, caller: Annotated[Scope, Depends(intake_limits)]
) -> Accepted:
    """Accept an event once the broker acknowledged it; a retry with the same id and body is harmless.

    A person reports as themselves; only a system account (a hotline or sensor gateway) or an administrator
    posts for others."""
    if event.reporter.id != caller.me and caller.role not in (Role.SYSTEM, Role.ADMIN):
        raise Forbidden(f"reporter.id: {event.reporter.id} is not you ({caller.me}); report as yourself")
    bad_time = implausible_time(event, datetime.now(UTC))
    if bad_time is not None:
        field, reason = bad_time
        raise Invalid(f"{field} {reason}", ("body", field))
    pool = request.app.state.pool
    digest = receipts.body_hash(event)
    state = await receipts.claim(pool, event.event_id, digest)
    if state is Receipt.CONFLICT:
        raise Conflict(f"event_id {event.event_id} was already used for a different event")
    if state is Receipt.ACCEPTED:
        return Accepted(event_id=event.event_id)
    try:
        await request.app.state.event_publisher.publish(event)
    except (KafkaError, TimeoutError) as exc:
        raise Unavailable("the event broker is unavailable; retry with the same event_id", retry_after=5) from exc
    await receipts.mark_accepted(pool, event.event_id)
    return Accepted(event_id=event.event_id)
