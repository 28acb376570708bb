"""The queues a person resolves (unrouted events, dead letters) and the patrol log, in PostGIS."""

from __future__ import annotations

import asyncpg

from core.queues import DeadLetter, UnroutedEvent
from dispatch.routing.decision import PatrolEntry


async def add_unrouted(pool: asyncpg.Pool, item: UnroutedEvent) -> bool:
    """Queue an unrouted event once (again after a failed retry); False when it was already queued."""
    async with pool.acquire() as conn:
        status = await conn.execute(
            "INSERT INTO unrouted_events (event_id, type, category, description, location, reason, received_at,"
            " event) VALUES ($1,$2,$3,$4,ST_SetSRID(ST_MakePoint($5,$6),4326),$7,$8,$9)"
            # An event a person sent to be routed again and that failed again comes back to the queue.
            " ON CONFLICT (event_id) DO UPDATE SET reason = EXCLUDED.reason, received_at = EXCLUDED.received_at,"
            " resolved_at = NULL, resolved_by = NULL, resolution = NULL, note = NULL"
            " WHERE unrouted_events.resolution = 'retried'",
            item.event_id,
            item.type,
            item.category,
            item.description,
            item.lon,
            item.lat,
            item.reason,
            item.received_at,
            item.event,
        )
    return bool(status.endswith(" 1"))


async def add_dead_letter(pool: asyncpg.Pool, item: DeadLetter) -> bool:
    """Queue a dead letter once per source record; False when it was already queued."""
    async with pool.acquire() as conn:
        status = await conn.execute(
            'INSERT INTO dead_letters (source_topic, "partition", "offset", key, reason, raw, received_at)'
            ' VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (source_topic, "partition", "offset") DO NOTHING',
            item.source_topic,
            item.partition,
            item.offset,
            item.key,
            item.reason,
            item.raw,
            item.received_at,
        )
    return bool(status.endswith(" 1"))


async def add_patrol(pool: asyncpg.Pool, entry: PatrolEntry) -> None:
    """Record a patrol that found nothing."""
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO patrol_log (event_id, reporter_id, grid_code, location, occurred_at, description)"
            " VALUES ($1,$2,$3,ST_SetSRID(ST_MakePoint($4,$5),4326),$6,$7) ON CONFLICT (event_id) DO NOTHING",
            entry.event_id,
            entry.reporter_id,
            entry.grid_code,
            entry.lon,
            entry.lat,
            entry.occurred_at,
            entry.description,
        )


async def add_patrols(pool: asyncpg.Pool, entries: list[PatrolEntry]) -> None:
    """Record patrols that found nothing, a batch in one statement."""
    if not entries:
        return
    await pool.executemany(
        "INSERT INTO patrol_log (event_id, reporter_id, grid_code, location, occurred_at, description)"
        " VALUES ($1,$2,$3,ST_SetSRID(ST_MakePoint($4,$5),4326),$6,$7) ON CONFLICT (event_id) DO NOTHING",
        [(e.event_id, e.reporter_id, e.grid_code, e.lon, e.lat, e.occurred_at, e.description) for e in entries],
    )
