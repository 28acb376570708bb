"""Registry endpoints: routing rules (read, add, change, retire, with their audit) and vacant grids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request

from dispatch import read_models, rules_store
from dispatch.intake import local_day
from dispatch.rules_store import RuleNotFound, RuleSpec

router = APIRouter(prefix="/api/v1", tags=["registry"])
Actor = Annotated[str, Header(alias="X-Actor", min_length=1, max_length=64, description="who makes the change")]


def _today() -> date:
    return local_day(datetime.now(UTC))


@router.get("/rules")
async def rules(
    request: Request, unit: Annotated[str | None, Query(pattern=r"^([0-9]{6}|[0-9]{9})$")] = None
) -> list[dict[str, Any]]:
    """Routing rules in force today, by unit and position (county defaults, township overrides)."""
    return await rules_store.list_rules(request.app.state.pool, unit, _today())


@router.post("/rules", status_code=201)
async def add_rule(spec: RuleSpec, request: Request, actor: Actor) -> dict[str, Any]:
    """Add a rule, in force from today; the stream processors reload at once."""
    row = await rules_store.add_rule(request.app.state.pool, spec, actor)
    await request.app.state.notices.announce("rules", f"rule {row['id']} added by {actor}")
    return row


@router.put("/rules/{rule_id}", responses={404: {"description": "no such rule in force"}})
async def change_rule(rule_id: int, spec: RuleSpec, request: Request, actor: Actor) -> dict[str, Any]:
    """Replace a rule: the old version ends today, the new one (new id) starts; both stay in history."""
    try:
        row = await rules_store.change_rule(request.app.state.pool, rule_id, spec, actor)
    except RuleNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    await request.app.state.notices.announce("rules", f"rule {rule_id} changed by {actor}")
    return row


@router.delete("/rules/{rule_id}", status_code=204, responses={404: {"description": "no such rule in force"}})
async def retire_rule(rule_id: int, request: Request, actor: Actor) -> None:
    """Retire a rule from today."""
    try:
        await rules_store.retire_rule(request.app.state.pool, rule_id, actor)
    except RuleNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    await request.app.state.notices.announce("rules", f"rule {rule_id} retired by {actor}")


@router.get("/rules/changes")
async def rule_changes(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Who changed which rule when, with the rule before and after."""
    return await rules_store.rule_changes(request.app.state.pool, limit)


@router.get("/grids/vacant")
async def vacant_grids(request: Request) -> list[dict[str, Any]]:
    """Grids without a member today, and the duty post that answers for them meanwhile (属地兜底)."""
    return await read_models.vacant_grids(request.app.state.pool, _today())
