"""What became of a case command: applied (with the entries it wrote), refused (with why), or not yet seen."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg


async def status(pool: asyncpg.Pool, command_id: UUID) -> dict[str, Any]:
    """The command's status as the sender may see it."""
    async with pool.acquire() as conn:
        refused = await conn.fetchrow(
            "SELECT case_id, kind, reason, at FROM command_refusals WHERE command_id = $1", command_id
        )
        if refused is not None:
            return {"command_id": command_id, "status": "refused", **dict(refused.items())}
        entries = await conn.fetch(
            "SELECT case_id, seq, kind, at FROM case_log WHERE command_id = $1 ORDER BY case_id, seq", command_id
        )
    if entries:
        return {
            "command_id": command_id,
            "status": "applied",
            "case_id": entries[0]["case_id"],
            "entries": [{"seq": e["seq"], "kind": e["kind"], "at": e["at"]} for e in entries],
        }
    return {"command_id": command_id, "status": "pending"}
