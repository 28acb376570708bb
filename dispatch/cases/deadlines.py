"""Deadlines about to pass: the clock warns a case's assignee before the current step's deadline, once per step and
deadline (the notice's unique key), in the inbox and through the deliveries of the kind `deadline`.

A warning comes GRID_DEADLINE_WARNING_MINUTES before the deadline, or in the step's last quarter when that is
shorter (a 10-minute step warns 2.5 minutes before, not as soon as it starts); the step's span is measured from the
case's last change, which is when the step began unless something was recorded since."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from core.notices import Notice
from dispatch.cases import inbox
from dispatch.cases.notices import NoticeDraft, deadline_notice

ASSIGNEE_STEPS = ("accept", "verify", "handle")
"""The steps the assignee is the one to finish; the others wait on a dispatcher."""

NEAR = """
SELECT id, township_code, step, step_due_at, assignee_kind, assignee_id, description FROM cases
WHERE closed_at IS NULL AND step = ANY($3::text[]) AND assignee_id IS NOT NULL
  AND step_due_at > $1 AND step_due_at <= $2 AND step_due_at - $1 <= (step_due_at - updated_at) / 4
ORDER BY step_due_at LIMIT $4
"""


def warnings(rows: list[asyncpg.Record], now: datetime) -> list[NoticeDraft]:
    """The warning drafts for cases whose step is due soon."""
    return [
        deadline_notice(
            r["id"],
            r["township_code"],
            {"kind": r["assignee_kind"], "id": r["assignee_id"]},
            r["step"],
            r["step_due_at"],
            max(1, int((r["step_due_at"] - now).total_seconds() // 60)),
            r["description"],
        )
        for r in rows
    ]


async def warn_round(pool: asyncpg.Pool, now: datetime, ahead: timedelta, limit: int = 500) -> list[Notice]:
    """Warn the assignee of every open case whose step is due within `ahead`; returns the notices new this round."""
    rows = await pool.fetch(NEAR, now, now + ahead, list(ASSIGNEE_STEPS), limit)
    drafts = warnings(rows, now)
    if not drafts:
        return []
    async with pool.acquire() as conn, conn.transaction():
        return await inbox.record(conn, drafts)
