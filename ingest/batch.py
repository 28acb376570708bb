"""The batch door's rules, without I/O: read a JSON array or NDJSON body into items, check each item as the single
door checks an event, and answer each in order once the receipts are known (ingest.api claims and publishes)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, ValidationError

from core.categories import CategoryTable
from core.events import EVENT_ADAPTER, EventEnvelope, implausible_time
from core.vocabulary import Role
from dispatch.access.scope import Scope
from dispatch.errors import Invalid, Loc, TooLarge, Unsupported
from ingest import media_refs
from ingest.publisher import Outgoing
from ingest.receipts import OnRecord, Receipt, body_hash

BATCH_PATH = "/api/v1/events/batch"
MAX_EVENTS = 1000
MAX_BYTES = 1024 * 1024
JSON = "application/json"
NDJSON = "application/x-ndjson"

Status = Literal["accepted", "duplicate", "conflict", "invalid"]


class FieldError(BaseModel):
    """A field at fault in one item, as FastAPI names it: `loc` starts with "body" and the item's index."""

    loc: list[str | int]
    msg: str
    type: str


class ItemResult(BaseModel):
    """The answer for one item: accepted (the broker has it), duplicate (this id with this body was accepted
    before, or earlier in the batch), conflict (this id came with another body), or invalid (see `errors`)."""

    index: int
    event_id: UUID | None = None
    status: Status
    errors: list[FieldError] | None = None


class Refused(BaseModel):
    """The whole batch refused: not JSON, not an array (422)."""

    detail: list[FieldError]


class BatchResult(BaseModel):
    """One answer per item, in the order sent, and how many of each."""

    results: list[ItemResult]
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class Unreadable:
    """An NDJSON line that is not JSON."""

    msg: str


@dataclass
class Item:
    """One item of a batch: an event ready to claim and publish, or what is wrong with it."""

    index: int
    event_id: UUID | None = None
    out: Outgoing | None = None
    digest: str = ""
    errors: list[FieldError] = field(default_factory=list)


def read_items(body: bytes, content_type: str) -> list[Any]:
    """The items of a JSON array or of NDJSON (one event per non-blank line); Invalid, Unsupported or TooLarge
    for the whole body."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == JSON:
        try:
            items = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise Invalid(f"not JSON: {exc}") from exc
        if not isinstance(items, list):
            raise Invalid(f"a batch is a JSON array of events (or {NDJSON}, one event per line)")
    elif kind == NDJSON:
        items = [_line(line) for line in body.splitlines() if line.strip()]
    else:
        raise Unsupported(f"Content-Type {kind or '(none)'} is not taken here: send {JSON} (an array) or {NDJSON}")
    if len(items) > MAX_EVENTS:
        raise TooLarge(f"a batch holds at most {MAX_EVENTS} events; this one has {len(items)}")
    return items


def _line(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return Unreadable(f"not JSON: {exc}")


def reporter_refusal(event: EventEnvelope, caller: Scope) -> str | None:
    """Why the caller may not post this event: a person reports as themselves; only a system account (a hotline
    or sensor gateway) or an administrator posts for others."""
    if event.reporter.id == caller.me or caller.role in (Role.SYSTEM, Role.ADMIN):
        return None
    return f"reporter.id: {event.reporter.id} is not you ({caller.me}); report as yourself"


def category_refusal(event: EventEnvelope, categories: CategoryTable | None) -> str | None:
    """Why the event's category is refused: not a 小类 of the table open to new reports."""
    if categories is None or categories.reportable(event.category):
        return None
    return f"category: {event.category} is not a 小类 open to reports (see GET /api/v1/categories)"


def check(index: int, raw: Any, caller: Scope, now: datetime, categories: CategoryTable | None = None) -> Item:
    """One item checked as the single door checks an event: the model, the reporter, the category, plausible
    times."""
    where: Loc = ("body", index)
    if isinstance(raw, Unreadable):
        return Item(index, errors=[FieldError(loc=list(where), msg=raw.msg, type="json_invalid")])
    try:
        event: EventEnvelope = EVENT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        errors = [
            FieldError(loc=[*where, *e["loc"]], msg=e["msg"], type=e["type"]) for e in exc.errors(include_url=False)
        ]
        return Item(index, event_id=_id_of(raw), errors=errors)
    refusal = reporter_refusal(event, caller)
    if refusal is not None:
        fault = FieldError(loc=[*where, "reporter", "id"], msg=refusal, type="forbidden")
        return Item(index, event.event_id, errors=[fault])
    bad_category = category_refusal(event, categories)
    if bad_category is not None:
        fault = FieldError(loc=[*where, "category"], msg=bad_category, type="value_error")
        return Item(index, event.event_id, errors=[fault])
    bad_time = implausible_time(event, now)
    if bad_time is not None:
        name, reason = bad_time
        fault = FieldError(loc=[*where, name], msg=f"{name} {reason}", type="value_error")
        return Item(index, event.event_id, errors=[fault])
    payload = event.model_dump_json().encode()
    return Item(index, event.event_id, Outgoing(event, payload), body_hash(payload))


def refuse_media(items: list[Item], refused: set[str]) -> None:
    """Mark invalid each item whose media names a refused hash (not stored, or not the sender's to read)."""
    for item in items:
        found = media_refs.fault(item.out.event, refused) if item.out is not None and refused else None
        if found is not None:
            loc, what = found
            msg = f"{'.'.join(map(str, loc))}: no {what} within your reach"
            item.errors, item.out = [FieldError(loc=["body", item.index, *loc], msg=msg, type="not_found")], None


def _id_of(raw: Any) -> UUID | None:
    """The item's event id when it has a readable one, to help the sender match the answer."""
    try:
        return UUID(str(raw["event_id"])) if isinstance(raw, dict) and "event_id" in raw else None
    except ValueError:
        return None


def claims(items: list[Item]) -> dict[UUID, str]:
    """The (event id, body hash) to claim: the first valid item of each id."""
    first: dict[UUID, str] = {}
    for item in items:
        if item.out is not None and item.event_id is not None:
            first.setdefault(item.event_id, item.digest)
    return first


def decide(items: list[Item], on_record: Mapping[UUID, OnRecord]) -> tuple[BatchResult, list[Outgoing]]:
    """Each item's answer, in order, and the events to publish (new ones, and pending ones sent again)."""
    results: list[ItemResult] = []
    publish: list[Outgoing] = []
    seen: set[UUID] = set()
    for item in items:
        status = _status(item, on_record, seen, publish)
        results.append(ItemResult(index=item.index, event_id=item.event_id, status=status, errors=item.errors or None))
    counts = Counter(r.status for r in results)
    answer = BatchResult(
        results=results,
        accepted=counts["accepted"],
        duplicate=counts["duplicate"],
        conflict=counts["conflict"],
        invalid=counts["invalid"],
    )
    return answer, publish


def _status(item: Item, on_record: Mapping[UUID, OnRecord], seen: set[UUID], publish: list[Outgoing]) -> Status:
    """The first item of an id is answered by its receipt; a later one with the same id by the body now on record
    (its first item's, if that was new): the same body is a duplicate, another a conflict."""
    if item.out is None or item.event_id is None:
        return "invalid"
    record = on_record[item.event_id]
    if item.event_id in seen:
        return "duplicate" if record.digest == item.digest else "conflict"
    seen.add(item.event_id)
    receipt = record.receipt(item.digest)
    if receipt is Receipt.CONFLICT:
        return "conflict"
    if receipt is not Receipt.ACCEPTED:
        publish.append(item.out)
    return "accepted" if receipt is Receipt.NEW else "duplicate"
