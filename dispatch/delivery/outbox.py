"""The outbox of deliveries (notice × channel × target): claimed under a lease, marked sent, or retried later.

A claim commits before anything is sent (status `sending`, one more attempt, due again when the lease ends), so a
process killed mid-batch leaves its rows to be claimed again after the lease, with the same idempotency key; a row
marked `sent` is never claimed again. Marks are fenced by the attempt count, so a process whose lease ran out cannot
overwrite what a later claim recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from dispatch.delivery.backoff import Backoff

CLAIM = """
WITH due AS (
    SELECT id FROM deliveries
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 AND channel = ANY($4::text[])
    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1, lease_until = $1 + $3::interval,
       next_attempt_at = $1 + $3::interval
FROM due WHERE d.id = due.id
RETURNING d.id
"""
CLAIMED = """
SELECT d.id, d.channel, d.target, d.idempotency_key, d.attempts, n.case_id, n.kind, n.text_zh, n.person_id,
       p.name AS person_name, w.url AS webhook_url
FROM deliveries d JOIN notices n ON n.id = d.notice_id
LEFT JOIN people p ON p.id = n.person_id
LEFT JOIN delivery_webhooks w ON d.channel = 'webhook' AND w.id::text = d.target AND w.enabled
WHERE d.id = ANY($1::bigint[]) ORDER BY d.id
"""
SENT = """
UPDATE deliveries SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL
WHERE id = $1 AND status = 'sending' AND attempts = $2
"""
FAILED = """
UPDATE deliveries SET status = $3, last_error = $4, next_attempt_at = $5, lease_until = NULL
WHERE id = $1 AND status = 'sending' AND attempts = $2
"""


@dataclass(frozen=True)
class Claimed:
    """A delivery this process holds under a lease, with what to send."""

    id: int
    channel: str
    target: str
    idempotency_key: UUID
    attempts: int
    case_id: UUID
    kind: str
    text_zh: str
    person_id: str
    person_name: str | None
    webhook_url: str | None


async def claim(
    pool: asyncpg.Pool, now: datetime, limit: int, lease: timedelta, channels: Sequence[str]
) -> list[Claimed]:
    """Take up to `limit` due deliveries of these channels (others' claims skipped), committing the claim."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            ids = [r["id"] for r in await conn.fetch(CLAIM, now, limit, lease, list(channels))]
        if not ids:
            return []
        rows = await conn.fetch(CLAIMED, ids)
    return [Claimed(**dict(r.items())) for r in rows]


async def mark_sent(pool: asyncpg.Pool, item: Claimed) -> bool:
    """Record the delivery sent; False when the claim was lost meanwhile (another attempt owns the row)."""
    return str(await pool.execute(SENT, item.id, item.attempts)).endswith(" 1")


async def mark_failed(
    pool: asyncpg.Pool, item: Claimed, error: str, now: datetime, backoff: Backoff, permanent: bool = False
) -> str:
    """Record a failed attempt: due again after the back-off, or failed for good; returns the new status."""
    if permanent or backoff.gives_up(item.attempts):
        status, due = "failed", now
    else:
        status, due = "pending", now + backoff.delay(item.attempts)
    await pool.execute(FAILED, item.id, item.attempts, status, error[:1000], due)
    return status


async def status_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """How many deliveries are in each status."""
    rows = await pool.fetch("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}
