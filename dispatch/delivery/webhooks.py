"""Group robots (webhooks) of townships and teams, and which notice kinds go out on which channel: data, read by
the case writer as it queues deliveries."""

from __future__ import annotations

from typing import Any

import asyncpg

from core.notices import NOTICE_KINDS
from dispatch.clock import in_force

CHANNELS = ("sms", "webhook")
COLUMNS = "id, unit_code, team_id, name, url, enabled, updated_by, updated_at"


async def add_webhook(
    pool: asyncpg.Pool, name: str, url: str, by: str, unit_code: str | None = None, team_id: str | None = None
) -> dict[str, Any]:
    """Add a robot for a township (its notices) or a team (its members' notices)."""
    if (unit_code is None) == (team_id is None):
        raise ValueError("give a township (unit_code) or a team, not both")
    if not url.startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    row = await pool.fetchrow(
        f"INSERT INTO delivery_webhooks (unit_code, team_id, name, url, updated_by) VALUES ($1,$2,$3,$4,$5)"
        f" RETURNING {COLUMNS}",
        unit_code,
        team_id,
        name,
        url,
        by,
    )
    assert row is not None
    return dict(row.items())


async def list_webhooks(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every robot, enabled or not."""
    return [dict(r.items()) for r in await pool.fetch(f"SELECT {COLUMNS} FROM delivery_webhooks ORDER BY id")]


async def set_enabled(pool: asyncpg.Pool, webhook_id: int, enabled: bool, by: str) -> bool:
    """Switch a robot on or off; False when there is no such robot."""
    status = await pool.execute(
        "UPDATE delivery_webhooks SET enabled = $2, updated_by = $3, updated_at = now() WHERE id = $1",
        webhook_id,
        enabled,
        by,
    )
    return str(status).endswith(" 1")


async def channels(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    """Which kinds go out on which channel."""
    rows = await pool.fetch("SELECT kind, channel FROM notice_channels ORDER BY 1, 2")
    return [(r["kind"], r["channel"]) for r in rows]


async def set_channel(pool: asyncpg.Pool, kind: str, channel: str, on: bool) -> None:
    """Send notices of `kind` on `channel` (on) or not (off), from the next notice on."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(NOTICE_KINDS)}")
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    if on:
        await pool.execute("INSERT INTO notice_channels VALUES ($1, $2) ON CONFLICT DO NOTHING", kind, channel)
    else:
        await pool.execute("DELETE FROM notice_channels WHERE kind = $1 AND channel = $2", kind, channel)


DEMO_WEBHOOKS = f"""
INSERT INTO delivery_webhooks (unit_code, name, url, updated_by)
SELECT u.code, u.name || '指挥群', $1 || '/' || u.code, $2 FROM admin_units u
WHERE u.level = 'township' AND {in_force("u")}
  AND NOT EXISTS (SELECT 1 FROM delivery_webhooks w WHERE w.unit_code = u.code)
"""


async def add_demo_webhooks(pool: asyncpg.Pool, base_url: str, by: str) -> int:
    """A robot at `<base_url>/<township code>` for every current township that has none; returns how many."""
    if not base_url.startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    status = await pool.execute(DEMO_WEBHOOKS, base_url.rstrip("/"), by)
    return int(str(status).split()[-1])
