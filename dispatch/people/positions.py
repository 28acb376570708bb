"""Where field staff are, for the command centre's map: shared from their phones by choice, the latest only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from core.vocabulary import Role
from dispatch.access.scope import Scope

SHARING_ROLES = frozenset({Role.GRID_MEMBER, Role.DUTY, Role.OFFICER, Role.LEGAL_REVIEWER, Role.AGENCY_STAFF})

IN_AREA = """
SELECT p.person_id, pe.name, p.role, p.unit_code, pe.team_id, ST_X(p.location) AS lon, ST_Y(p.location) AS lat,
    p.accuracy_m, p.at
FROM positions p JOIN people pe ON pe.id = p.person_id
WHERE starts_with(p.unit_code, $1) AND p.at >= $2 ORDER BY p.at DESC LIMIT $3
"""


async def share(
    pool: asyncpg.Pool, scope: Scope, lon: float, lat: float, accuracy_m: float | None, at: datetime
) -> str:
    """Keep the person's latest position (an older report than the kept one is ignored); returns their name."""
    name: str | None = await pool.fetchval(
        "WITH kept AS (INSERT INTO positions (person_id, role, unit_code, location, accuracy_m, at)"
        " VALUES ($1,$2,$3,ST_SetSRID(ST_MakePoint($4,$5),4326),$6,$7) ON CONFLICT (person_id) DO UPDATE SET"
        " role = EXCLUDED.role, unit_code = EXCLUDED.unit_code, location = EXCLUDED.location,"
        " accuracy_m = EXCLUDED.accuracy_m, at = EXCLUDED.at WHERE positions.at < EXCLUDED.at)"
        " SELECT name FROM people WHERE id = $1",
        scope.me,
        scope.role.value,
        scope.unit_code,
        lon,
        lat,
        accuracy_m,
        at,
    )
    return name or scope.me


async def stop_sharing(pool: asyncpg.Pool, scope: Scope) -> None:
    """Forget the person's position: they stopped sharing."""
    await pool.execute("DELETE FROM positions WHERE person_id = $1", scope.me)


async def in_area(pool: asyncpg.Pool, area: str, since: datetime, limit: int = 2000) -> list[dict[str, Any]]:
    """Positions of people of `area` reported since `since`, newest first."""
    return [dict(r) for r in await pool.fetch(IN_AREA, area, since, limit)]
