"""What became of a case command: applied (with the entries it wrote), refused (with why), or not yet seen."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

ENTRIES = "SELECT case_id, seq, kind, at FROM case_log WHERE command_id = $1 ORDER BY case_id, seq"

REFUSAL = "SELECT case_id, kind, reason, at FROM command_refusals WHERE command_id = $1"


async def status(pool: asyncpg.Pool, command_id: UUID) -> dict[str, Any]:
    """The command's status as the sender may see it: one statement when applied, two otherwise."""
    async with pool.acquire() as conn:
        entries = await conn.fetch(ENTRIES, command_id)
        if entries:
            return {
                "command_id": command_id,
                "status": "applied",
                "case_id": entries[0]["case_id"],
                "entries": [{"seq": e["seq"], "kind": e["kind"], "at": e["at"]} for e in entries],
            }
        refused = await conn.fetchrow(REFUSAL, command_id)
    if refused is not None:
        return {"command_id": command_id, "status": "refused", **dict(refused.items())}
    return {"command_id": command_id, "status": "pending"}
