"""Idempotency of the intake: one receipt per event id, holding the hash of the body first accepted."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from uuid import UUID

import asyncpg

from core.events import EventEnvelope


class Receipt(StrEnum):
    """What the receipt table says about an event id."""

    NEW = "new"
    PENDING = "pending"
    ACCEPTED = "accepted"
    CONFLICT = "conflict"


def body_hash(event: EventEnvelope) -> str:
    """SHA-256 of the event's canonical JSON, so key order and defaults do not matter."""
    return hashlib.sha256(event.model_dump_json().encode()).hexdigest()


async def claim(pool: asyncpg.Pool, event_id: UUID, digest: str) -> Receipt:
    """Record the event id, or say whether the earlier one with this id matches and was accepted."""
    async with pool.acquire() as conn:
        inserted = await conn.fetchval(
            "INSERT INTO ingest_receipts (event_id, body_sha256, status) VALUES ($1, $2, 'pending')"
            " ON CONFLICT (event_id) DO NOTHING RETURNING 1",
            event_id,
            digest,
        )
        if inserted:
            return Receipt.NEW
        row = await conn.fetchrow("SELECT body_sha256, status FROM ingest_receipts WHERE event_id = $1", event_id)
    if row is None or row["body_sha256"] != digest:
        return Receipt.CONFLICT
    return Receipt(row["status"])


async def mark_accepted(pool: asyncpg.Pool, event_id: UUID) -> None:
    """The broker has the event."""
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE ingest_receipts SET status = 'accepted', accepted_at = now() WHERE event_id = $1", event_id
        )
