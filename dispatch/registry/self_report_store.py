"""Self-report policies as data: how each township (or, by default, its county) verifies a case its own assignee
reported; set and cleared by an administrator, each change audited (who, when, before, after)."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from core.inputs import NO_NUL
from core.vocabulary import SelfReport
from dispatch.errors import NotFound
from dispatch.registry.revisions import bump_revision
from dispatch.registry.rules_store import jsonable

UNIT_CODE = r"^([0-9]{6}|[0-9]{9})$"


def valid_unit(code: str) -> bool:
    """Whether `code` is a county's or a township's code."""
    return re.fullmatch(UNIT_CODE, code) is not None


class SelfReportSpec(BaseModel):
    """A unit's policy for self-reported cases."""

    model_config = ConfigDict(extra="forbid")

    policy: SelfReport = Field(description="reporter_report: the report counts as 快速核查; duty_post: the duty post")
    note: str = Field(default="", max_length=200, pattern=NO_NUL)


class PolicyNotFound(NotFound):
    """The unit has no policy of its own."""


async def list_policies(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every unit's policy, county rows first."""
    rows = await pool.fetch("SELECT * FROM self_report_policies ORDER BY length(unit_code), unit_code")
    return [dict(r.items()) for r in rows]


async def set_policy(pool: asyncpg.Pool, unit_code: str, spec: SelfReportSpec, by: str) -> dict[str, Any]:
    """Set (or replace) a unit's policy; the stream processors reload on the revision bump."""
    async with pool.acquire() as conn, conn.transaction():
        before = await conn.fetchrow("SELECT * FROM self_report_policies WHERE unit_code = $1 FOR UPDATE", unit_code)
        row = await conn.fetchrow(
            "INSERT INTO self_report_policies (unit_code, policy, note, updated_by) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (unit_code) DO UPDATE SET policy = excluded.policy, note = excluded.note,"
            " updated_by = excluded.updated_by, updated_at = now() RETURNING *",
            unit_code,
            spec.policy.value,
            spec.note,
            by,
        )
        assert row is not None
        await _audit(conn, unit_code, "set", dict(before.items()) if before else None, dict(row.items()), by)
        await bump_revision(conn, "self_report")
    return dict(row.items())


async def clear_policy(pool: asyncpg.Pool, unit_code: str, by: str) -> None:
    """Remove a unit's own policy, so its county's (or the product default) applies."""
    async with pool.acquire() as conn, conn.transaction():
        before = await conn.fetchrow("DELETE FROM self_report_policies WHERE unit_code = $1 RETURNING *", unit_code)
        if before is None:
            raise PolicyNotFound(f"unit {unit_code} has no self-report policy of its own")
        await _audit(conn, unit_code, "clear", dict(before.items()), None, by)
        await bump_revision(conn, "self_report")


async def policy_changes(pool: asyncpg.Pool, limit: int = 100) -> list[dict[str, Any]]:
    """The audit trail of policy changes, newest first."""
    rows = await pool.fetch(
        "SELECT * FROM self_report_policy_changes ORDER BY changed_at DESC, id DESC LIMIT $1", limit
    )
    return [dict(r.items()) for r in rows]


async def _audit(
    conn: asyncpg.Connection | Any,
    unit_code: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    by: str,
) -> None:
    await conn.execute(
        "INSERT INTO self_report_policy_changes (unit_code, action, before, after, changed_by)"
        " VALUES ($1, $2, $3, $4, $5)",
        unit_code,
        action,
        jsonable(before),
        jsonable(after),
        by,
    )
