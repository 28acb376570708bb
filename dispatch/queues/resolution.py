"""Resolving the person-facing queues: an unrouted event is routed again or dismissed, a dead letter replayed or
dismissed; either way the decision is kept in `queue_resolutions` (who, when, how, why), and nothing is deleted: an
event retried and queued again keeps its earlier decisions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import asyncpg

from core.queues import ESCAPED_NOTE
from dispatch.db import Conn
from dispatch.errors import Conflict, NotFound
from dispatch.queues.queries import UNROUTED_AREA

REPLACEMENT_CHARACTER = "\ufffd"
STORED_RAW_CAP = 64 * 1024


class NotQueued(NotFound, LookupError):
    """No unresolved item with that id within the user's area."""


class CannotReplay(Conflict, ValueError):
    """The stored record is not the original bytes (it was cut or not UTF-8), so it cannot be replayed."""


Resolution = Literal["retried", "replayed", "dismissed"]
Publish = Callable[[str | None, bytes | None, bytes], Awaitable[None]]
"""Puts a record back: (full topic name, or None for the events topic; key; value)."""


@dataclass(frozen=True)
class Resolved:
    """What was decided."""

    item_id: str
    resolution: Resolution


async def resolve_unrouted(
    pool: asyncpg.Pool, event_id: UUID, area: str, by: str, action: str, note: str, publish: Publish
) -> Resolved:
    """Mark an unrouted event of `area` retried (published again first) or dismissed.

    The row stays locked until the broker has the event, so a failed publish leaves the item waiting."""
    resolution: Resolution = "retried" if action == "retry" else "dismissed"
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE unrouted_events e SET resolved_at = now(), resolved_by = $3, resolution = $4, note = $5"
            f" WHERE event_id = $1 AND resolved_at IS NULL AND {UNROUTED_AREA} RETURNING e.event::text AS event",
            event_id,
            area,
            by,
            resolution,
            note or None,
        )
        if row is None:
            raise NotQueued(f"no unrouted event {event_id} waiting in your area")
        await _record(conn, "unrouted", str(event_id), resolution, by, note)
        if action == "retry":
            await publish(None, str(event_id).encode(), row["event"].encode())
    return Resolved(str(event_id), resolution)


async def resolve_dead_letter(
    pool: asyncpg.Pool, letter_id: int, by: str, action: str, note: str, publish: Publish
) -> Resolved:
    """Mark a dead letter replayed (published to its source topic first) or dismissed."""
    resolution: Resolution = "replayed" if action == "replay" else "dismissed"
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE dead_letters SET resolved_at = now(), resolved_by = $2, resolution = $3, note = $4"
            " WHERE id = $1 AND resolved_at IS NULL RETURNING source_topic, key, raw, reason",
            letter_id,
            by,
            resolution,
            note or None,
        )
        if row is None:
            raise NotQueued(f"no dead letter {letter_id} waiting")
        await _record(conn, "deadletter", str(letter_id), resolution, by, note)
        if action == "replay":
            raw: str = row["raw"]
            if REPLACEMENT_CHARACTER in raw or len(raw) >= STORED_RAW_CAP or row["reason"].endswith(ESCAPED_NOTE):
                raise CannotReplay(f"dead letter {letter_id} was cut or not valid UTF-8; its bytes are not kept")
            key = row["key"].encode() if row["key"] is not None else None
            await publish(row["source_topic"], key, raw.encode())
    return Resolved(str(letter_id), resolution)


async def _record(conn: Conn, queue: str, item_id: str, resolution: str, by: str, note: str) -> None:
    await conn.execute(
        "INSERT INTO queue_resolutions (queue, item_id, resolution, resolved_by, note) VALUES ($1,$2,$3,$4,$5)",
        queue,
        item_id,
        resolution,
        by,
        note or None,
    )


async def resolved_unrouted(pool: asyncpg.Pool, area: str, limit: int) -> list[dict[str, Any]]:
    """Decisions on unrouted events of `area`, newest first: who, when, how and why, with the event."""
    rows = await pool.fetch(
        "SELECT e.event_id, e.type, e.category, e.description, e.reason, e.received_at, r.resolved_at,"
        " r.resolved_by, r.resolution, r.note, e.resolved_at IS NULL AS waiting_again"
        " FROM queue_resolutions r JOIN unrouted_events e ON r.queue = 'unrouted' AND e.event_id::text = r.item_id"
        f" WHERE {UNROUTED_AREA} ORDER BY r.resolved_at DESC, r.id DESC LIMIT $1",
        limit,
        area,
    )
    return [dict(r) for r in rows]


async def resolved_dead_letters(pool: asyncpg.Pool, limit: int) -> list[dict[str, Any]]:
    """Decisions on dead letters, newest first: who, when, how and why, with the letter."""
    rows = await pool.fetch(
        'SELECT d.id, d.source_topic, d."partition", d."offset", d.reason, d.received_at, r.resolved_at,'
        " r.resolved_by, r.resolution, r.note FROM queue_resolutions r"
        " JOIN dead_letters d ON r.queue = 'deadletter' AND d.id::text = r.item_id"
        " ORDER BY r.resolved_at DESC, r.id DESC LIMIT $1",
        limit,
    )
    return [dict(r) for r in rows]
