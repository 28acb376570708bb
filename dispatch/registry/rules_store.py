"""Routing rules as data: list, add, change and retire them, each change audited (who, when, before, after)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.categories import CategoryScope
from core.inputs import NO_NUL
from core.vocabulary import PartyKind, Severity
from dispatch.errors import NotFound
from dispatch.registry.categories_store import check_scope
from dispatch.registry.revisions import bump_revision

TODAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
COLUMNS = (
    "unit_code",
    "position",
    "event_type",
    "category",
    "min_severity",
    "target",
    "agency_type",
    "priority",
    "sla_hours",
    "note",
)


class RuleSpec(BaseModel):
    """What a routing rule matches, whom it sends to, and the clock it starts."""

    model_config = ConfigDict(extra="forbid")

    unit_code: str = Field(pattern=r"^([0-9]{6}|[0-9]{9})$", description="county (default) or township (override)")
    position: int = Field(ge=0, le=100_000, description="rules of a unit are tried in this order")
    event_type: Literal["patrol", "incident", "enforcement_lead", "citizen_report", "sensor_alert"] | None = None
    category: CategoryScope | None = None
    min_severity: Severity | None = None
    target: PartyKind
    agency_type: str | None = Field(default=None, pattern=r"^[a-z_]{2,30}$")
    priority: Severity | None = None
    sla_hours: int = Field(gt=0, le=24 * 90)
    note: str = Field(default="", max_length=200, pattern=NO_NUL)

    @model_validator(mode="after")
    def _agency_needs_type(self) -> RuleSpec:
        if (self.target is PartyKind.AGENCY) != (self.agency_type is not None):
            raise ValueError("agency_type is required for target 'agency' and only for it")
        return self


class RuleNotFound(NotFound):
    """No current rule has this id."""


def _values(spec: RuleSpec) -> list[Any]:
    data = spec.model_dump(mode="json")
    return [data[c] for c in COLUMNS]


def _in_area(unit: str, area: str) -> str:
    """A rule's unit lies in the area (a township's overrides) or above it (the county defaults that apply there)."""
    return f"(starts_with({unit}, {area}) OR starts_with({area}, {unit}))"


async def list_rules(pool: asyncpg.Pool, unit_code: str | None, day: date, area: str = "") -> list[dict[str, Any]]:
    """Rules in force on `day` for units in or above `area` (a code prefix), by unit and position."""
    rows = await pool.fetch(
        "SELECT * FROM routing_rules WHERE ($1::text IS NULL OR unit_code = $1) AND valid_from <= $2"
        f" AND (valid_to IS NULL OR $2 < valid_to) AND {_in_area('unit_code', '$3')}"
        " ORDER BY unit_code, position, id",
        unit_code,
        day,
        area,
    )
    return [dict(r.items()) for r in rows]


async def add_rule(pool: asyncpg.Pool, spec: RuleSpec, by: str) -> dict[str, Any]:
    """Create a rule in force from today."""
    async with pool.acquire() as conn, conn.transaction():
        await check_scope(conn, spec.category, ("body", "category"))
        row = await conn.fetchrow(
            f"INSERT INTO routing_rules ({', '.join(COLUMNS)}, updated_by, valid_from)"
            f" VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,{TODAY}) RETURNING *",
            *_values(spec),
            by,
        )
        assert row is not None
        await _audit(conn, row["id"], "create", None, dict(row.items()), by)
        await bump_revision(conn, "rules")
    return dict(row.items())


async def change_rule(pool: asyncpg.Pool, rule_id: int, spec: RuleSpec, by: str) -> dict[str, Any]:
    """Replace a rule: the old version ends today and a new one with a new id starts (history is kept)."""
    async with pool.acquire() as conn, conn.transaction():
        await check_scope(conn, spec.category, ("body", "category"))
        before = await _retire(conn, rule_id)
        row = await conn.fetchrow(
            f"INSERT INTO routing_rules ({', '.join(COLUMNS)}, updated_by, valid_from)"
            f" VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,{TODAY}) RETURNING *",
            *_values(spec),
            by,
        )
        assert row is not None
        await _audit(conn, rule_id, "update", before, dict(row.items()), by)
        await bump_revision(conn, "rules")
    return dict(row.items())


async def retire_rule(pool: asyncpg.Pool, rule_id: int, by: str) -> None:
    """End a rule today."""
    async with pool.acquire() as conn, conn.transaction():
        before = await _retire(conn, rule_id)
        await _audit(conn, rule_id, "retire", before, None, by)
        await bump_revision(conn, "rules")


async def rule_changes(pool: asyncpg.Pool, limit: int = 100, area: str = "") -> list[dict[str, Any]]:
    """The audit trail of changes to rules of units in or above `area`, newest first."""
    unit = "coalesce(after ->> 'unit_code', before ->> 'unit_code')"
    rows = await pool.fetch(
        f"SELECT * FROM routing_rule_changes WHERE {_in_area(unit, '$2')} ORDER BY changed_at DESC, id DESC LIMIT $1",
        limit,
        area,
    )
    return [dict(r.items()) for r in rows]


async def _retire(conn: asyncpg.Connection | Any, rule_id: int) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"UPDATE routing_rules SET valid_to = {TODAY} WHERE id = $1 AND valid_to IS NULL RETURNING *",
        rule_id,
    )
    if row is None:
        raise RuleNotFound(f"rule {rule_id} does not exist or is already retired")
    return dict(row.items())


async def _audit(
    conn: asyncpg.Connection | Any,
    rule_id: int,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    by: str,
) -> None:
    await conn.execute(
        "INSERT INTO routing_rule_changes (rule_id, action, before, after, changed_by) VALUES ($1,$2,$3,$4,$5)",
        rule_id,
        action,
        jsonable(before),
        jsonable(after),
        by,
    )


def jsonable(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row as the audit trails store it: dates and times as ISO text."""
    return None if row is None else {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
