"""Where an event id is already on record: the case holding that event, or the patrol log."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from dispatch.routing.quarantine import Sighting

# Both probes are primary-key lookups; the event's own facts come from its case's detail, which holds every event
# of the case (cases stored before the detail existed fall back to the case's own point and time). An event split
# off a case is on its way to a case of its own, so it does not count.
SEEN = """
SELECT 'case ' || ce.case_id AS record,
       coalesce((s->'location'->>'lon')::float8, ST_X(c.location)) AS lon,
       coalesce((s->'location'->>'lat')::float8, ST_Y(c.location)) AS lat,
       coalesce((s->>'occurred_at')::timestamptz, c.opened_at) AS occurred_at
FROM case_events ce
JOIN cases c ON c.id = ce.case_id
CROSS JOIN LATERAL jsonb_path_query_first(
    c.detail, '$.events[*].source ? (@.event_id == $id)', jsonb_build_object('id', $1::uuid::text)
) AS s
WHERE ce.event_id = $1::uuid AND ce.split_at IS NULL
UNION ALL
SELECT 'patrol log', ST_X(location), ST_Y(location), occurred_at FROM patrol_log WHERE event_id = $1::uuid
"""


async def sightings(pool: asyncpg.Pool, event_id: UUID) -> list[Sighting]:
    """Every event on record under this id (none for a new event), in one round trip."""
    rows = await pool.fetch(SEEN, event_id)
    return [Sighting(r["record"], r["lon"], r["lat"], r["occurred_at"]) for r in rows]
