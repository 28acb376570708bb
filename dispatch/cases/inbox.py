"""Each person's inbox: notices written with the case projection (once per case, source, kind and person), their
deliveries queued in the same transaction, and what a person reads and marks read."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from core.notices import Notice
from dispatch.cases.notices import NoticeDraft
from dispatch.clock import in_force
from dispatch.db import Conn

# One row per draft and selector; a person reached twice by one draft gets one notice (the unique key).
# A person is reached inside the case's township only: their unit today is in it, or (a county supervisor) above it.
INSERT_NOTICES = f"""
INSERT INTO notices (person_id, case_id, source, kind, township_code, text_zh, text_en)
SELECT DISTINCT ON (p.id, d.case_id, d.source, d.kind) p.id, d.case_id, d.source, d.kind, d.township, d.zh, d.en
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
     AS d(case_id, source, kind, township, selector, value, zh, en, actor)
JOIN people p ON {in_force("p")} AND p.id <> d.actor AND d.township IS NOT NULL
JOIN team_memberships m ON m.person_id = p.id AND {in_force("m")}
 AND (starts_with(m.unit_code, d.township) OR (d.selector = 'person' AND starts_with(d.township, m.unit_code)))
 AND ((d.selector = 'person' AND p.id = d.value)
   OR (d.selector = 'team' AND m.team_id = d.value)
   OR (d.selector = 'role' AND p.role = d.value))
ORDER BY p.id, d.case_id, d.source, d.kind
ON CONFLICT ON CONSTRAINT notices_once DO NOTHING
RETURNING id, person_id, case_id, kind, text_zh, text_en, created_at, read_at
"""
QUEUE_SMS = """
INSERT INTO deliveries (notice_id, channel, target, dedupe)
SELECT n.id, 'sms', p.phone, n.id::text FROM notices n
JOIN people p ON p.id = n.person_id
JOIN notice_channels c ON c.kind = n.kind AND c.channel = 'sms'
WHERE n.id = ANY($1::bigint[]) AND p.phone IS NOT NULL
ON CONFLICT ON CONSTRAINT deliveries_once DO NOTHING
"""
# A group robot hears of a notice once, whichever of its people it reached.
QUEUE_WEBHOOKS = """
INSERT INTO deliveries (notice_id, channel, target, dedupe)
SELECT DISTINCT ON (w.id, n.case_id, n.source, n.kind) n.id, 'webhook', w.id::text,
       n.case_id::text || ':' || n.source || ':' || n.kind
FROM notices n
JOIN people p ON p.id = n.person_id
JOIN notice_channels c ON c.kind = n.kind AND c.channel = 'webhook'
JOIN delivery_webhooks w ON w.enabled AND (w.unit_code = n.township_code OR w.team_id = p.team_id)
WHERE n.id = ANY($1::bigint[])
ORDER BY w.id, n.case_id, n.source, n.kind, n.id
ON CONFLICT ON CONSTRAINT deliveries_once DO NOTHING
"""
NOTICE_COLUMNS = "id, person_id, case_id, kind, text_zh, text_en, created_at, read_at"


def _rows(drafts: Sequence[NoticeDraft]) -> list[list[object]]:
    """The drafts as the columns of INSERT_NOTICES's unnest, one row per selector."""
    flat = [(d, selector) for d in drafts for selector in d.audience]
    return [
        [d.case_id for d, _ in flat],
        [d.source for d, _ in flat],
        [d.kind for d, _ in flat],
        [d.township_code for d, _ in flat],
        [s[0] for _, s in flat],
        [s[1] for _, s in flat],
        [d.text_zh for d, _ in flat],
        [d.text_en for d, _ in flat],
        [d.actor_id for d, _ in flat],
    ]


async def record(conn: Conn, drafts: Sequence[NoticeDraft]) -> list[Notice]:
    """Write the drafts' notices for the people they reach and queue their deliveries; returns the notices new
    (a replay adds none). Runs inside the caller's transaction."""
    if not any(d.audience for d in drafts):
        return []
    rows = await conn.fetch(INSERT_NOTICES, *_rows(drafts))
    made = [Notice.model_validate(dict(r.items())) for r in rows]
    if made:
        ids = [n.id for n in made]
        await conn.execute(QUEUE_SMS, ids)
        await conn.execute(QUEUE_WEBHOOKS, ids)
    return made


async def list_notices(
    pool: asyncpg.Pool, person_id: str, unread_only: bool, limit: int, before: int | None
) -> list[Notice]:
    """A person's notices, newest first, from before the id `before` (the previous page's last) when given."""
    rows = await pool.fetch(
        f"SELECT {NOTICE_COLUMNS} FROM notices WHERE person_id = $1 AND ($2::bool IS FALSE OR read_at IS NULL)"
        " AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
        person_id,
        unread_only,
        before,
        limit,
    )
    return [Notice.model_validate(dict(r.items())) for r in rows]


async def unread_count(pool: asyncpg.Pool, person_id: str) -> int:
    """How many of a person's notices are unread."""
    return int(await pool.fetchval("SELECT count(*) FROM notices WHERE person_id = $1 AND read_at IS NULL", person_id))


async def mark_read(pool: asyncpg.Pool, person_id: str, ids: Sequence[int] | None) -> int:
    """Mark the person's notices with these ids (every unread one when None) read; returns how many changed. Ids
    that are not the person's change nothing."""
    status = await pool.execute(
        "UPDATE notices SET read_at = now() WHERE person_id = $1 AND read_at IS NULL"
        " AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))",
        person_id,
        list(ids) if ids is not None else None,
    )
    return int(status.split()[-1])
