"""Step SLAs as data, edited: list a caller's policies, create, replace and end them, each change audited (who, when,
why, before, after) and counted as a registry revision so the stream processors reload."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from dispatch.errors import Conflict, NotInReach
from dispatch.registry.categories_store import check_scope
from dispatch.registry.revisions import bump_revision
from dispatch.registry.rules_store import jsonable
from dispatch.registry.step_sla_spec import StepSlaSpec, StepSlaTerms, end_day, in_area

PART = "step_slas"
KEY = ("unit_code", "category", "priority")
OPEN_IN_AREA = "SELECT * FROM step_slas WHERE id = $1 AND valid_to IS NULL AND starts_with(unit_code, $2) FOR UPDATE"
UNIT_KNOWN = (
    "SELECT EXISTS (SELECT 1 FROM admin_units WHERE code = $1 AND level IN ('county', 'township')"
    " AND (valid_to IS NULL OR $2 < valid_to))"
)
INSERT = (
    "INSERT INTO step_slas (unit_code, category, priority, accept_minutes, verify_minutes, note, valid_from,"
    " updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *"
)
ORDER = "length(unit_code), unit_code, category NULLS FIRST, priority NULLS FIRST, valid_from, id"


def _in_or_above(unit: str, area: str) -> str:
    """A policy's unit lies in the area (a township's overrides) or above it (the county defaults that apply there)."""
    return f"(starts_with({unit}, {area}) OR starts_with({area}, {unit}))"


async def list_policies(pool: asyncpg.Pool, unit_code: str | None, today: date, area: str = "") -> list[dict[str, Any]]:
    """Policies in force or scheduled (not ended by `today`) for units in or above `area`, county rows first."""
    rows = await pool.fetch(
        "SELECT * FROM step_slas WHERE ($1::text IS NULL OR unit_code = $1) AND (valid_to IS NULL OR $2 < valid_to)"
        f" AND {_in_or_above('unit_code', '$3')} ORDER BY {ORDER}",
        unit_code,
        today,
        area,
    )
    return [dict(r.items()) for r in rows]


async def create_policy(pool: asyncpg.Pool, spec: StepSlaSpec, start: date, by: str, area: str = "") -> dict[str, Any]:
    """A new policy from `start`; NotInReach (naming unit_code) for a unit unknown or outside `area`, Conflict when
    the unit already has an open policy for the same category and priority (replace that one)."""
    async with pool.acquire() as conn, conn.transaction():
        if not in_area(spec.unit_code, area) or not await conn.fetchval(UNIT_KNOWN, spec.unit_code, start):
            raise NotInReach(("body", "unit_code"), f"county or township {spec.unit_code}")
        await check_scope(conn, spec.category, ("body", "category"))
        row = await _insert(conn, spec.unit_code, spec.category, spec.priority, spec, start, by)
        await _audit(conn, row, "create", None, row, spec.reason, by)
        await bump_revision(conn, PART)
    return row


async def replace_policy(
    pool: asyncpg.Pool, policy_id: int, terms: StepSlaTerms, start: date, by: str, area: str = ""
) -> dict[str, Any]:
    """Replace an open policy from `start`: the old one ends that day, the new one (new id, same unit, category and
    priority) begins; both stay in history. NotInReach (naming policy_id) for none open in `area`."""
    async with pool.acquire() as conn, conn.transaction():
        before = await _close(conn, policy_id, start, area)
        row = await _insert(conn, before["unit_code"], before["category"], before["priority"], terms, start, by)
        await _audit(conn, before, "replace", before, row, terms.reason, by)
        await bump_revision(conn, PART)
    return row


async def end_policy(pool: asyncpg.Pool, policy_id: int, reason: str, today: date, by: str, area: str = "") -> None:
    """End an open policy today (one not yet started never comes into force): the next closest applies."""
    async with pool.acquire() as conn, conn.transaction():
        before = await conn.fetchrow(OPEN_IN_AREA, policy_id, area)
        if before is None:
            raise NotInReach(("path", "policy_id"), f"open step SLA policy {policy_id}")
        ended = await _close(conn, policy_id, end_day(before["valid_from"], today), area)
        await _audit(conn, ended, "end", ended, None, reason, by)
        await bump_revision(conn, PART)


async def set_policy(pool: asyncpg.Pool, spec: StepSlaSpec, start: date, by: str) -> tuple[str, dict[str, Any]]:
    """gridctl's set: replace the unit's open policy for the same category and priority, or create one."""
    current = await pool.fetchval(
        "SELECT id FROM step_slas WHERE unit_code = $1 AND category IS NOT DISTINCT FROM $2"
        " AND priority IS NOT DISTINCT FROM $3 AND valid_to IS NULL",
        spec.unit_code,
        spec.category,
        spec.priority,
    )
    if current is None:
        return "created", await create_policy(pool, spec, start, by)
    return "replaced", await replace_policy(pool, current, spec, start, by)


async def policy_changes(
    pool: asyncpg.Pool, limit: int = 100, area: str = "", unit_code: str | None = None
) -> list[dict[str, Any]]:
    """The audit trail of changes to policies of units in or above `area`, newest first."""
    rows = await pool.fetch(
        f"SELECT * FROM step_sla_changes WHERE {_in_or_above('unit_code', '$2')}"
        " AND ($3::text IS NULL OR unit_code = $3) ORDER BY changed_at DESC, id DESC LIMIT $1",
        limit,
        area,
        unit_code,
    )
    return [dict(r.items()) for r in rows]


async def _insert(
    conn: Any, unit: str, category: str | None, priority: str | None, terms: StepSlaTerms, start: date, by: str
) -> dict[str, Any]:
    try:
        row = await conn.fetchrow(
            INSERT, unit, category, priority, terms.accept_minutes, terms.verify_minutes, terms.note, start, by
        )
    except asyncpg.UniqueViolationError as exc:
        what = " ".join(f"{k}={v}" for k, v in (("category", category), ("priority", priority)) if v) or "any case"
        raise Conflict(f"unit {unit} already has an open step SLA policy for {what}: replace or end it") from exc
    return dict(row.items())


async def _close(conn: Any, policy_id: int, day: date, area: str) -> dict[str, Any]:
    """End an open policy of `area` on `day` (its first day at the earliest); the row as it now stands."""
    row = await conn.fetchrow(
        "UPDATE step_slas SET valid_to = greatest(valid_from, $3::date) WHERE id = $1 AND valid_to IS NULL"
        " AND starts_with(unit_code, $2) RETURNING *",
        policy_id,
        area,
        day,
    )
    if row is None:
        raise NotInReach(("path", "policy_id"), f"open step SLA policy {policy_id}")
    return dict(row.items())


async def _audit(
    conn: Any,
    policy: dict[str, Any],
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
    by: str,
) -> None:
    await conn.execute(
        "INSERT INTO step_sla_changes (policy_id, unit_code, action, before, after, reason, changed_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        policy["id"],
        policy["unit_code"],
        action,
        jsonable(before),
        jsonable(after),
        reason,
        by,
    )
