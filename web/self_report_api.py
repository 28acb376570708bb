"""Self-report policies over HTTP: read by the command centre, set and cleared by an administrator, audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from dispatch.access.http_auth import Admin, CommandCentre
from dispatch.registry import self_report_store
from dispatch.registry.self_report_store import UNIT_CODE, SelfReportSpec

router = APIRouter(prefix="/api/v1", tags=["registry"])
UnitCode = Annotated[str, Path(pattern=UNIT_CODE, description="county (default) or township (override) code")]


@router.get("/self-report-policies")
async def policies(request: Request, caller: CommandCentre) -> list[dict[str, Any]]:
    """How each unit verifies a case its own assignee reported (a township's row before its county's)."""
    return await self_report_store.list_policies(request.app.state.pool)


@router.get("/self-report-policies/changes")
async def policy_changes(
    request: Request, caller: CommandCentre, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Who changed which unit's policy when, with the policy before and after."""
    return await self_report_store.policy_changes(request.app.state.pool, limit)


@router.put("/self-report-policies/{unit_code}")
async def set_policy(unit_code: UnitCode, spec: SelfReportSpec, request: Request, caller: Admin) -> dict[str, Any]:
    """Set a unit's policy; cases routed from now on follow it."""
    row = await self_report_store.set_policy(request.app.state.pool, unit_code, spec, caller.username)
    await request.app.state.notices.announce("rules", f"self-report policy of {unit_code} set by {caller.username}")
    return row


@router.delete(
    "/self-report-policies/{unit_code}", status_code=204, responses={404: {"description": "no policy of its own"}}
)
async def clear_policy(unit_code: UnitCode, request: Request, caller: Admin) -> None:
    """Remove a unit's own policy: its county's (or the product default, reporter_report) applies."""
    await self_report_store.clear_policy(request.app.state.pool, unit_code, caller.username)
    await request.app.state.notices.announce("rules", f"self-report policy of {unit_code} cleared by {caller.username}")
