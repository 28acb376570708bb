"""Case reads of the command centre: the case list with filters, one case with its log, a reporter's cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from core.case_views import CaseView
from dispatch.access.scope import Scope
from dispatch.cases.columns import CASE_COLUMNS, case_from_row


@dataclass(frozen=True)
class CaseFilter:
    """Filters of the case list; None means any."""

    state: str | None = None
    open_only: bool = False
    grid_code: str | None = None
    township_code: str | None = None
    category: str | None = None  # a 小类, or a 大类 taking in all its 小类
    assignee: str | None = None
    overdue: bool = False
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    search: str | None = None
    limit: int = 200


def list_query(f: CaseFilter, scope: Scope) -> tuple[str, list[object]]:
    """The case list's SELECT within `scope` and its arguments: the list and its exports filter alike."""
    args: list[object] = [
        f.state,
        f.open_only,
        f.grid_code,
        f.township_code,
        f.category,
        f.limit,
        f.assignee,
        f.overdue,
        f.opened_from,
        f.opened_to,
        f.search,
    ]
    reach = scope.case_sql(args)
    sql = (
        f"SELECT {CASE_COLUMNS} FROM cases WHERE {reach} AND ($1::text IS NULL OR state = $1)"
        " AND (NOT $2 OR closed_at IS NULL)"
        " AND ($3::text IS NULL OR grid_code = $3) AND ($4::text IS NULL OR township_code = $4)"
        " AND ($5::text IS NULL OR category = $5 OR (length($5) = 2 AND starts_with(category, $5)))"
        " AND ($7::text IS NULL OR assignee_id = $7)"
        " AND (NOT $8 OR (closed_at IS NULL AND step_due_at < now()))"
        " AND ($9::timestamptz IS NULL OR opened_at >= $9) AND ($10::timestamptz IS NULL OR opened_at < $10)"
        " AND ($11::text IS NULL OR strpos(description, $11) > 0 OR grid_name = $11 OR id::text = $11)"
        " ORDER BY opened_at DESC, id LIMIT $6"
    )
    return sql, args


async def list_cases(pool: asyncpg.Pool, f: CaseFilter, scope: Scope) -> list[CaseView]:
    """Cases within `scope` matching the filter, newest first."""
    sql, args = list_query(f, scope)
    async with pool.acquire() as conn:
        rows = await conn.fetch(sql, *args)
    return [case_from_row(r).view() for r in rows]


async def cases_reported_by(pool: asyncpg.Pool, reporter: str, limit: int, scope: Scope | None) -> list[CaseView]:
    """Cases holding an event this person reported (within `scope` unless it is the reporter's own list)."""
    args: list[object] = [reporter, limit]
    reach = scope.case_sql(args) if scope else "TRUE"
    rows = await pool.fetch(
        f"SELECT {CASE_COLUMNS} FROM cases WHERE id IN (SELECT case_id FROM case_events WHERE reporter_id = $1"
        f" AND split_at IS NULL) AND {reach} ORDER BY opened_at DESC LIMIT $2",
        *args,
    )
    return [case_from_row(r).view() for r in rows]


async def get_case(pool: asyncpg.Pool, case_id: UUID, scope: Scope) -> tuple[CaseView, list[dict[str, Any]]] | None:
    """A case within `scope` and its log, oldest entry first; None when there is none the user may see."""
    args: list[object] = [case_id]
    reach = scope.case_sql(args)
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 AND {reach}", *args)
        if row is None:
            return None
        log = await conn.fetch(
            "SELECT seq, kind, actor_id, actor_role, at, payload, hash FROM case_log WHERE case_id = $1 ORDER BY seq",
            case_id,
        )
    return case_from_row(row).view(), [dict(r.items()) for r in log]


async def case_in_scope(pool: asyncpg.Pool, case_id: UUID, scope: Scope) -> bool:
    """Whether the case exists and is within the user's reach."""
    args: list[object] = [case_id]
    reach = scope.case_sql(args)
    return bool(await pool.fetchval(f"SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1 AND {reach})", *args))
