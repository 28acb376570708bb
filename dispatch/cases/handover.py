"""A dispatcher's transfer of an open case to another grid or party (转办), keeping its state and its clock: the
placement and the assignee's name come from the registry, never from the request."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from core.cases import Actor, Assignee, PartyRef, Reason, TransferCase
from core.vocabulary import PartyKind
from dispatch.access.scope import Scope
from dispatch.cases import references
from dispatch.clock import in_force, local_day
from dispatch.errors import Invalid, NotInReach

GRID = f"""
SELECT g.code, g.name, g.village_code, g.township_code, coalesce(t.name, g.township_code) AS township_name
FROM grids g
LEFT JOIN LATERAL (
    SELECT name FROM admin_units a WHERE a.code = g.township_code AND {in_force("a")} LIMIT 1
) t ON true
WHERE g.code = $1 AND {in_force("g")} AND starts_with(g.code, $2)
"""
GRID_MEMBER = f"""
SELECT p.id, p.name FROM grid_posts gp JOIN people p ON p.id = gp.person_id
WHERE gp.grid_code = $1 AND {in_force("gp")} AND {in_force("p")}
ORDER BY gp.post = 'full_time' DESC, gp.id LIMIT 1
"""


class TransferRequest(BaseModel):
    """Move an open case to a grid (its member by default) or to a named party there, keeping state and clock."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grid_code: str = Field(pattern=r"^[0-9]{15}$", description="the grid the case belongs to from now on")
    assignee: PartyRef | None = Field(default=None, description="by default the grid's member")
    reason: Reason


async def transfer_command(
    pool: asyncpg.Pool, body: TransferRequest, scope: Scope, actor: Actor, now: datetime, ids: tuple[UUID, UUID]
) -> TransferCase:
    """The transfer a dispatcher's request (case id, command id) stands for; a grid or party that does not exist or
    lies outside the caller's area answers the same 404, naming the field."""
    case_id, command_id = ids
    grid = await pool.fetchrow(GRID, body.grid_code, scope.area)
    if grid is None:
        raise NotInReach(("body", "grid_code"), f"current grid {body.grid_code}")
    if body.assignee is not None:
        party = await references.assignee_in(pool, body.assignee, grid["township_code"], local_day(now))
    else:
        party = await _member(pool, body.grid_code)
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
        assignee=party,
        reason=body.reason,
    )


async def _member(pool: asyncpg.Pool, grid_code: str) -> Assignee:
    """The grid's member (its full-time one first)."""
    row = await pool.fetchrow(GRID_MEMBER, grid_code)
    if row is None:
        raise Invalid(f"grid {grid_code} has no member: name the assignee", ("body", "assignee"))
    return Assignee(kind=PartyKind.GRID_MEMBER, id=row["id"], name=row["name"])
