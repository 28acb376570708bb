"""Where an event id is already on record: the case holding that event, or the patrol log."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from dispatch.routing.quarantine import Sighting

# Both probes use primary keys; the event's own facts come from its case's detail, which holds every event
# of the case (cases stored before the detail existed fall back to the case's own point and time). An event split
# off a case is on its way to a case of its own, so it does not count.
SEEN_MANY = """
SELECT ce.event_id, 'case ' || ce.case_id AS record,
       coalesce((s->'location'->>'lon')::float8, ST_X(c.location)) AS lon,
       coalesce((s->'location'->>'lat')::float8, ST_Y(c.location)) AS lat,
       coalesce((s->>'occurred_at')::timestamptz, c.opened_at) AS occurred_at
FROM case_events ce
JOIN cases c ON c.id = ce.case_id
CROSS JOIN LATERAL jsonb_path_query_first(
    c.detail, '$.events[*].source ? (@.event_id == $id)', jsonb_build_object('id', ce.event_id::text)
) AS s
WHERE ce.event_id = ANY($1::uuid[]) AND ce.split_at IS NULL
UNION ALL
SELECT event_id, 'patrol log', ST_X(location), ST_Y(location), occurred_at FROM patrol_log
WHERE event_id = ANY($1::uuid[])
"""


async def sightings_many(pool: asyncpg.Pool, event_ids: list[UUID]) -> dict[UUID, list[Sighting]]:
    """Every event on record under each of these ids, for a whole batch in one round trip."""
    found: dict[UUID, list[Sighting]] = {}
    if not event_ids:
        return found
    for r in await pool.fetch(SEEN_MANY, event_ids):
        found.setdefault(r["event_id"], []).append(Sighting(r["record"], r["lon"], r["lat"], r["occurred_at"]))
    return found
