"""What the papers of a case read: the case within the caller's reach, its log, its supervisions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from dispatch.access.scope import Scope
from dispatch.cases.columns import CASE_COLUMNS, case_from_row
from dispatch.cases.record import CaseRecord
from dispatch.errors import NotFound


async def case_in_reach(pool: asyncpg.Pool, case_id: UUID, scope: Scope) -> CaseRecord:
    """The case with its detail; NotFound for a case out of reach, exactly as for one that does not exist."""
    args: list[object] = [case_id]
    row = await pool.fetchrow(f"SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 AND {scope.case_sql(args)}", *args)
    if row is None:
        raise NotFound(f"case {case_id} not found")
    return case_from_row(row)


async def case_log(pool: asyncpg.Pool, case_id: UUID) -> list[dict[str, Any]]:
    """The case's log, oldest entry first."""
    rows = await pool.fetch(
        "SELECT seq, kind, actor_id, actor_role, at, payload FROM case_log WHERE case_id = $1 ORDER BY seq", case_id
    )
    return [dict(r.items()) for r in rows]


async def supervision(pool: asyncpg.Pool, case_id: UUID, seq: int | None) -> dict[str, Any]:
    """One 督办 record of the case (the latest when `seq` is None); NotFound when there is none."""
    row = await pool.fetchrow(
        "SELECT seq, level, step, due_at, at, by_id, reason, notified FROM supervisions"
        " WHERE case_id = $1 AND ($2::int IS NULL OR seq = $2) ORDER BY at DESC, seq DESC LIMIT 1",
        case_id,
        seq,
    )
    if row is None:
        raise NotFound(f"case {case_id} has no supervision{'' if seq is None else f' {seq}'}")
    return dict(row.items())


async def names_of(pool: asyncpg.Pool, person_ids: list[str]) -> dict[str, str]:
    """The registry's names of these people (reporters who are staff); others are left out."""
    rows = await pool.fetch("SELECT DISTINCT ON (id) id, name FROM people WHERE id = ANY($1::text[])", person_ids)
    return {r["id"]: r["name"] for r in rows}
