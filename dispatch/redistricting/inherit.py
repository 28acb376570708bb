"""New townships inherit their predecessor's overrides: routing rules, step SLAs and the self-report policy are copied
as new rows valid from the plan's date, each copy audited as the edits of those rules are (by the plan's applier)."""

from __future__ import annotations

from datetime import date
from typing import Any

from dispatch.db import Conn
from dispatch.registry.revisions import bump_revision
from dispatch.registry.rules_store import jsonable

RULE_COLUMNS = "position, event_type, category, min_severity, target, agency_type, priority, sla_hours, note"
COPY_RULES = f"""
INSERT INTO routing_rules (unit_code, {RULE_COLUMNS}, updated_by, valid_from)
SELECT $2, {RULE_COLUMNS}, $4, greatest(valid_from, $3) FROM routing_rules
WHERE unit_code = $1 AND (valid_to IS NULL OR $3 < valid_to) ORDER BY position, id
RETURNING *
"""
SLA_COLUMNS = "category, priority, accept_minutes, verify_minutes, note"
COPY_SLAS = f"""
INSERT INTO step_slas (unit_code, {SLA_COLUMNS}, updated_by, valid_from)
SELECT $2, {SLA_COLUMNS}, $4, greatest(valid_from, $3) FROM step_slas
WHERE unit_code = $1 AND (valid_to IS NULL OR $3 < valid_to) ORDER BY id
RETURNING *
"""
COPY_SELF_REPORT = """
INSERT INTO self_report_policies (unit_code, policy, note, updated_by)
SELECT $2, policy, note, $3 FROM self_report_policies WHERE unit_code = $1
ON CONFLICT (unit_code) DO NOTHING RETURNING *
"""
PARTS = (("rules", "rules_inherited"), ("step_slas", "step_slas_inherited"), ("self_report", "self_report_inherited"))


async def inherit_overrides(conn: Conn, plan_id: str, heirs: dict[str, str], eff: date, by: str) -> dict[str, int]:
    """Copy each predecessor's overrides to the new township that takes its place; returns how many rows of each."""
    counts = {"rules_inherited": 0, "step_slas_inherited": 0, "self_report_inherited": 0}
    why = f"plan {plan_id}"
    for new, old in sorted(heirs.items()):
        for row in map(_row, await conn.fetch(COPY_RULES, old, new, eff, by)):
            await conn.execute(
                "INSERT INTO routing_rule_changes (rule_id, action, before, after, changed_by)"
                " VALUES ($1,'create',NULL,$2,$3)",
                row["id"],
                {**(jsonable(row) or {}), "inherited_from": old, "plan_id": plan_id},
                by,
            )
            counts["rules_inherited"] += 1
        for row in map(_row, await conn.fetch(COPY_SLAS, old, new, eff, by)):
            await conn.execute(
                "INSERT INTO step_sla_changes (policy_id, unit_code, action, before, after, reason, changed_by)"
                " VALUES ($1,$2,'create',NULL,$3,$4,$5)",
                row["id"],
                new,
                jsonable(row),
                f"{why}: inherited from {old}",
                by,
            )
            counts["step_slas_inherited"] += 1
        for row in map(_row, await conn.fetch(COPY_SELF_REPORT, old, new, by)):
            await conn.execute(
                "INSERT INTO self_report_policy_changes (unit_code, action, before, after, changed_by)"
                " VALUES ($1,'set',NULL,$2,$3)",
                new,
                {**(jsonable(row) or {}), "inherited_from": old, "plan_id": plan_id},
                by,
            )
            counts["self_report_inherited"] += 1
    for part, key in PARTS:
        if counts[key]:
            await bump_revision(conn, part)
    return counts


def _row(record: Any) -> dict[str, Any]:
    return dict(record.items())
