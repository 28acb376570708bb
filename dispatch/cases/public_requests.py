"""Open311 service requests as the public may read them: cases a citizen asked for (a 群众诉求, or one an Open311
request was attached to), with no reporter, the place cut to its village and free text masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from dispatch.cases.columns import Row
from dispatch.cases.disclosure import mask_text
from dispatch.clock import in_force

LIMIT = 1000
"""The spec's response volume: at most 1,000 requests (and 90 days) per answer."""

PUBLIC = """
SELECT c.id, c.state, c.category, c.description, c.township_code, c.township_name, c.grid_name, c.assignee_kind,
       c.assignee_name, c.opened_at, c.updated_at, c.due_at, c.closed_at, c.supervision_level, c.merged_into,
       ST_Y(c.location) AS lat, ST_X(c.location) AS lon, v.name AS village_name
FROM cases c
LEFT JOIN LATERAL (
    SELECT u.name FROM admin_units u WHERE u.code = c.village_code ORDER BY u.valid_from DESC LIMIT 1
) v ON true
WHERE (c.event_type = 'citizen_report' OR EXISTS (
    SELECT 1 FROM case_events ce JOIN open311_tokens t ON t.token = ce.event_id WHERE ce.case_id = c.id))
"""


@dataclass(frozen=True)
class Search:
    """GET requests' filters: ids override the rest; the area is a unit code prefix ('' for all)."""

    area: str = ""
    ids: tuple[UUID, ...] = ()
    codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


async def find(pool: asyncpg.Pool, search: Search) -> list[Row]:
    """The public requests matching `search`, newest first, at most LIMIT."""
    if search.ids:
        sql = PUBLIC + " AND starts_with(c.township_code, $1) AND c.id = ANY($2::uuid[]) ORDER BY c.opened_at DESC"
        return [_masked(r) for r in await pool.fetch(sql, search.area, list(search.ids))]
    sql = (
        PUBLIC + " AND starts_with(c.township_code, $1) AND (cardinality($2::text[]) = 0 OR c.category = ANY($2))"
        " AND (cardinality($3::text[]) = 0 OR (CASE WHEN c.state IN ('closed', 'cancelled', 'merged')"
        " THEN 'closed' ELSE 'open' END) = ANY($3))"
        " AND c.opened_at >= $4 AND c.opened_at <= $5 ORDER BY c.opened_at DESC LIMIT $6"
    )
    assert search.start is not None and search.end is not None
    rows = await pool.fetch(
        sql, search.area, list(search.codes), list(search.statuses), search.start, search.end, LIMIT
    )
    return [_masked(r) for r in rows]


def _masked(row: asyncpg.Record) -> dict[str, object]:
    out = dict(row)
    out["description"] = mask_text(out["description"] or "")
    return out


async def token_case(pool: asyncpg.Pool, token: UUID) -> tuple[bool, UUID | None]:
    """Whether the token was issued, and the case its request became (None while it is being routed or waits in
    the unrouted queue for a person)."""
    row = await pool.fetchrow(
        "SELECT ce.case_id FROM open311_tokens t LEFT JOIN case_events ce ON ce.event_id = t.token WHERE t.token = $1",
        token,
    )
    return (row is not None, None if row is None else row["case_id"])


async def record_token(pool: asyncpg.Pool, token: UUID, username: str) -> None:
    """Note that an Open311 client's request became event `token`."""
    await pool.execute(
        "INSERT INTO open311_tokens (token, username) VALUES ($1, $2) ON CONFLICT DO NOTHING", token, username
    )


async def unit_exists(pool: asyncpg.Pool, code: str) -> bool:
    """Whether `code` is a current county or township (a jurisdiction_id)."""
    return bool(
        await pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM admin_units a WHERE code = $1 AND level IN ('county', 'township')"
            f" AND {in_force('a')})",
            code,
        )
    )
