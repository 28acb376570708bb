"""What the inbox tests share: a grid of each of two townships with its member, and reporting an event there."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from core.cases import case_id_for_event
from tests.integration.harness import wait_for
from tests.integration.helpers import event

SPOT = """
SELECT g.code, g.township_code, ST_X(p) AS lon, ST_Y(p) AS lat, pe.id AS member_id, pe.phone
FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p
JOIN grid_posts gp ON gp.grid_code = g.code AND gp.valid_to IS NULL
JOIN people pe ON pe.id = gp.person_id
WHERE g.township_code = $1 AND g.valid_to IS NULL
ORDER BY g.code OFFSET $2 LIMIT 1
"""


async def townships(db: asyncpg.Pool) -> tuple[str, str]:
    """The demo's two townships with dispatchers (dispatcher and dispatcher-b)."""
    first = await db.fetchval("SELECT unit_code FROM users WHERE username = 'dispatcher'")
    second = await db.fetchval("SELECT unit_code FROM users WHERE username = 'dispatcher-b'")
    return str(first), str(second)


async def spot(db: asyncpg.Pool, township: str, offset: int = 0) -> dict[str, Any]:
    """A point in a grid of `township`, with the grid's member."""
    row = await db.fetchrow(SPOT, township, offset)
    assert row is not None, f"no staffed grid in {township}"
    return dict(row.items())


async def report(http: httpx.AsyncClient, where: dict[str, Any], description: str, **fields: Any) -> uuid.UUID:
    """An event at the spot (posted by the administrator's client); returns the id of the case it opens, once it
    exists."""
    body = event(lon=where["lon"], lat=where["lat"], description=description, **fields)
    posted = await http.post("/api/v1/events", json=body)
    assert posted.status_code == 202, posted.text
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))

    async def opened() -> bool:
        return (await http.get(f"/api/v1/cases/{case_id}")).status_code == 200

    await wait_for(opened, f"case {case_id}")
    return case_id
