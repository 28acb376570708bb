"""Queue reads of the command centre: unrouted events of an area and dead letters."""

from __future__ import annotations

from typing import Any

import asyncpg

from dispatch.clock import in_force

# An unrouted event belongs to the area whose boundary covers it; one outside every boundary to the admin.
UNROUTED_AREA = f"""($2 = '' OR EXISTS (SELECT 1 FROM admin_units u
    WHERE u.code = $2 AND {in_force("u")} AND ST_Covers(u.geom, e.location)))"""


async def unrouted(pool: asyncpg.Pool, area: str, limit: int = 200) -> list[dict[str, Any]]:
    """Unresolved unrouted events located in `area` (a unit code, '' for all), newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_id, type, category, description, ST_X(location) AS lon, ST_Y(location) AS lat, reason,"
            " received_at FROM unrouted_events e WHERE resolved_at IS NULL AND "
            + UNROUTED_AREA
            + " ORDER BY received_at DESC LIMIT $1",
            limit,
            area,
        )
    return [dict(r.items()) for r in rows]


async def dead_letters(pool: asyncpg.Pool, limit: int = 200) -> list[dict[str, Any]]:
    """Unresolved dead letters, newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            'SELECT id, source_topic, "partition", "offset", key, reason, left(raw, 2000) AS raw, received_at'
            " FROM dead_letters WHERE resolved_at IS NULL ORDER BY received_at DESC LIMIT $1",
            limit,
        )
    return [dict(r.items()) for r in rows]


async def township_of_unrouted(pool: asyncpg.Pool, event_id: str) -> str | None:
    """The code of the township whose current boundary covers an unrouted event, if any."""
    code: str | None = await pool.fetchval(
        f"SELECT u.code FROM unrouted_events e JOIN admin_units u ON u.level = 'township' AND {in_force('u')}"
        " AND ST_Covers(u.geom, e.location) WHERE e.event_id::text = $1 ORDER BY u.code LIMIT 1",
        event_id,
    )
    return code
