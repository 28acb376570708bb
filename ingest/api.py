"""The doors: `POST /api/v1/events` (one event, a phone) and `POST /api/v1/events/batch` (up to 1,000, a gateway)
validate, deduplicate and hand events to the broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Body, Depends, FastAPI, Request
from pydantic import BaseModel

from core.events import EventEnvelope, FieldEvent, implausible_time
from dispatch.access.http_auth import Caller, address, guard_of, rate_limit
from dispatch.access.scope import Scope
from dispatch.errors import Conflict, Forbidden, Invalid, NotInReach, TooLarge, Unavailable
from dispatch.registry.categories_store import CategoryCache
from ingest import batch, media_refs, receipts
from ingest.batch import BatchResult, Refused, category_refusal, reporter_refusal
from ingest.publisher import EventPublisher, Outgoing
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
    """Open the producer, and hold the category table, for the app's lifetime."""
    settings = IngestSettings()
    publisher = EventPublisher(settings)
    await publisher.start()
    app.state.event_publisher = publisher
    app.state.intake_categories = CategoryCache()
    await app.state.intake_categories.start(app.state.pool, settings.category_reload_seconds)
    try:
        yield
    finally:
        await app.state.intake_categories.stop()
        await publisher.stop()


def count_events(request: Request, caller: Scope, events: int = 1) -> None:
    """Count events against the intake's limits. A person's phone is held to the per-address and per-person limits;
    an account that is no person (a sensor or hotline gateway, an administrator's desk) to its own, higher,
    per-account limit only, so a gateway is not throttled by the address limit meant for phones."""
    settings = guard_of(request).settings
    if caller.person_id is None:
        rate_limit(request, settings.rate_intake_per_gateway, "events from this account", caller.username, events)
        return
    rate_limit(request, settings.rate_intake_per_address, "events from this address", address(request), events)
    rate_limit(request, settings.rate_intake_per_user, "events from this account", caller.username, events)


async def intake_limits(request: Request, caller: Caller) -> Scope:
    """The single door's limits, counted before the body is validated."""
    count_events(request, caller)
    return caller


@router.post(
    "/api/v1/events",
    status_code=202,
    response_model=Accepted,
    responses={
        401: {"model": Problem},
        403: {"model": Problem},
        404: {"description": "a media reference that is not a stored file the sender may read"},
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
    posts for others. Its media must be files the sender may read. One database statement per request (the claim
    of the event id), and one more when the event carries media."""
    refusal = reporter_refusal(event, caller)
    if refusal is not None:
        raise Forbidden(refusal)
    bad_category = category_refusal(event, request.app.state.intake_categories.table)
    if bad_category is not None:
        raise Invalid(bad_category, ("body", "category"))
    bad_time = implausible_time(event, datetime.now(UTC))
    if bad_time is not None:
        field, reason = bad_time
        raise Invalid(f"{field} {reason}", ("body", field))
    foreign = media_refs.fault(event, await media_refs.unreadable(request.app.state.pool, [event], caller))
    if foreign is not None:
        raise NotInReach(("body", *foreign[0]), foreign[1])
    await hand_over(request, event)
    return Accepted(event_id=event.event_id)


async def hand_over(request: Request, event: EventEnvelope) -> None:
    """Claim the event's id and publish it unless the broker already acknowledged it: Conflict for an id used for
    another event, Unavailable while the broker cannot take it."""
    out = Outgoing(event, event.model_dump_json().encode())
    digest = receipts.body_hash(out.payload)
    on_record = await receipts.claim(request.app.state.pool, [(event.event_id, digest)])
    receipt = on_record[event.event_id].receipt(digest)
    if receipt is Receipt.CONFLICT:
        raise Conflict(f"event_id {event.event_id} was already used for a different event")
    if receipt is not Receipt.ACCEPTED:  # new, or claimed before and perhaps never acknowledged: (re)publish
        try:
            await request.app.state.event_publisher.publish(out)
        except (KafkaError, TimeoutError) as exc:
            raise Unavailable("the event broker is unavailable; retry with the same event_id", retry_after=5) from exc


BATCH_BODY = {
    "required": True,
    "content": {
        batch.JSON: {"schema": {"type": "array", "maxItems": batch.MAX_EVENTS, "items": {"type": "object"}}},
        batch.NDJSON: {"schema": {"type": "string", "description": "one event (a JSON object) per line"}},
    },
}


@router.post(
    batch.BATCH_PATH,
    response_model=BatchResult,
    response_model_exclude_none=True,
    responses={
        401: {"model": Problem},
        413: {"model": Problem},
        415: {"model": Problem},
        422: {"model": Refused},
        429: {"model": Problem},
        503: {"model": Problem},
    },
    openapi_extra={"requestBody": BATCH_BODY},
    summary="Report up to 1,000 field events at once (gateways and sensors): a JSON array or NDJSON, up to 1 MiB",
)
async def post_batch(request: Request, caller: Caller) -> BatchResult:
    """Answer each event in order: accepted, duplicate (same id and body as before), conflict (same id, another
    body) or invalid (naming the field). Each event is checked as `POST /api/v1/events` checks it and counts
    against the account's limit. One statement claims every event id, then the events are sent together and
    the broker's acknowledgements awaited once. If the broker does not take them all, the answer is 503 with
    Retry-After: send the same batch again; what was taken is then answered as a duplicate."""
    body = await request.body()
    if len(body) > batch.MAX_BYTES:
        raise TooLarge(f"a batch is at most {batch.MAX_BYTES} bytes")
    raw = batch.read_items(body, request.headers.get("content-type", ""))
    if raw:
        count_events(request, caller, len(raw))
    now = datetime.now(UTC)
    categories = request.app.state.intake_categories.table
    items = [batch.check(index, item, caller, now, categories) for index, item in enumerate(raw)]
    events = [item.out.event for item in items if item.out is not None]
    batch.refuse_media(items, await media_refs.unreadable(request.app.state.pool, events, caller))
    wanted = batch.claims(items)
    on_record = await receipts.claim(request.app.state.pool, list(wanted.items())) if wanted else {}
    answer, publish = batch.decide(items, on_record)
    publisher: EventPublisher = request.app.state.event_publisher
    failures = [f for f in await publisher.publish_all(publish) if f is not None] if publish else []
    if failures:
        raise Unavailable(
            f"the event broker did not take {len(failures)} of {len(publish)} events; send the batch again"
            " (the same ids): what it took is then answered as a duplicate",
            retry_after=5,
        ) from failures[0]
    return answer
