"""A dispatcher's transfer of an open case to another grid or party (转办), keeping its state and its clock: the
placement and the assignee's name come from the registry, never from the request."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from core.cases import Actor, Assignee, Reason, TransferCase
from core.vocabulary import PartyKind
from dispatch.errors import Invalid

GRID = """
SELECT g.code, g.name, g.village_code, g.township_code, coalesce(t.name, g.township_code) AS township_name
FROM grids g
LEFT JOIN LATERAL (
    SELECT name FROM admin_units a WHERE a.code = g.township_code ORDER BY a.valid_from DESC LIMIT 1
) t ON true
WHERE g.code = $1 AND g.valid_to IS NULL
"""
GRID_MEMBER = """
SELECT p.id, p.name FROM grid_posts gp JOIN people p ON p.id = gp.person_id
WHERE gp.grid_code = $1 AND gp.valid_to IS NULL AND p.valid_to IS NULL
ORDER BY gp.post = 'full_time' DESC, gp.id LIMIT 1
"""
PERSON = "SELECT id, name FROM people WHERE id = $1 AND valid_to IS NULL"
TEAM = "SELECT id, name FROM teams WHERE id = $1 AND kind = $2 AND valid_to IS NULL"
TEAM_KIND = {PartyKind.ENFORCEMENT: "enforcement", PartyKind.AGENCY: "agency"}


class PartyRef(BaseModel):
    """A party by kind and id; its name is the registry's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PartyKind
    id: str = Field(min_length=1, max_length=100)


class TransferRequest(BaseModel):
    """Move an open case to a grid (its member by default) or to a named party there, keeping state and clock."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grid_code: str = Field(pattern=r"^[0-9]{15}$", description="the grid the case belongs to from now on")
    assignee: PartyRef | None = Field(default=None, description="by default the grid's member")
    reason: Reason


async def transfer_command(
    pool: asyncpg.Pool, case_id: UUID, body: TransferRequest, actor: Actor, now: datetime, command_id: UUID
) -> TransferCase:
    """The transfer a dispatcher's request stands for; Invalid, naming the field, for an unknown grid or party."""
    grid = await pool.fetchrow(GRID, body.grid_code)
    if grid is None:
        raise Invalid(f"no current grid {body.grid_code}", ("body", "grid_code"))
    party = await _party(pool, body)
    return TransferCase(
        command_id=command_id,
        case_id=case_id,
        issued_at=now,
        actor=actor,
        grid_code=grid["code"],
        grid_name=grid["name"],
        village_code=grid["village_code"],
        township_code=grid["township_code"],
        township_name=grid["township_name"],
        assignee=Assignee(kind=body.assignee.kind if body.assignee else PartyKind.GRID_MEMBER, **party),
        reason=body.reason,
    )


async def _party(pool: asyncpg.Pool, body: TransferRequest) -> dict[str, Any]:
    ref = body.assignee
    if ref is None:
        row = await pool.fetchrow(GRID_MEMBER, body.grid_code)
        if row is None:
            raise Invalid(f"grid {body.grid_code} has no member: name the assignee", ("body", "assignee"))
    else:
        lookup = (PERSON, ref.id) if ref.kind is PartyKind.GRID_MEMBER else (TEAM, ref.id, TEAM_KIND[ref.kind])
        row = await pool.fetchrow(*lookup)
        if row is None:
            raise Invalid(f"no current {ref.kind.value} {ref.id}", ("body", "assignee", "id"))
    return {"id": row["id"], "name": row["name"]}
