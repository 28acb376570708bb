"""Step SLAs over HTTP: read by the command centre for its area; created, replaced and ended by those who edit routing
rules, each change audited with who, when and why, and announced so the stream processors reload."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from core.inputs import NO_NUL
from dispatch.access.http_auth import Admin, CommandCentre
from dispatch.clock import local_day
from dispatch.registry import step_sla_store
from dispatch.registry.step_sla_spec import UNIT_CODE, StepSlaSpec, StepSlaTerms, first_day

router = APIRouter(prefix="/api/v1", tags=["registry"])
PolicyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
OUT_OF_REACH: dict[int | str, dict[str, Any]] = {
    404: {"description": "a unit (or policy) unknown or outside the caller's area; the detail names the field"}
}
TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"description": "the unit already has an open policy for this category and priority: replace it"}
}


def _today() -> date:
    return local_day(datetime.now(UTC))


@router.get("/step-slas")
async def policies(
    request: Request, caller: CommandCentre, unit: Annotated[str | None, Query(pattern=UNIT_CODE)] = None
) -> list[dict[str, Any]]:
    """Step SLA policies in force or scheduled for the caller's area (county defaults, township overrides); a unit
    outside the area lists nothing, as an unknown unit does."""
    return await step_sla_store.list_policies(request.app.state.pool, unit, _today(), caller.area)


@router.post("/step-slas", status_code=201, responses={**OUT_OF_REACH, **TAKEN})
async def create_policy(spec: StepSlaSpec, request: Request, caller: Admin) -> dict[str, Any]:
    """A policy for a unit of the caller's area, optionally for one category and priority, from `valid_from`."""
    start = first_day(spec.valid_from, _today())
    row = await step_sla_store.create_policy(request.app.state.pool, spec, start, caller.username, caller.area)
    await _announce(request, f"step SLA {row['id']} of {row['unit_code']} created by {caller.username}")
    return row


@router.put("/step-slas/{policy_id}", responses=OUT_OF_REACH)
async def replace_policy(policy_id: PolicyId, terms: StepSlaTerms, request: Request, caller: Admin) -> dict[str, Any]:
    """Replace an open policy from `valid_from`: the old one ends that day and the new one (a new id, the same unit,
    category and priority) begins; both stay in history."""
    start = first_day(terms.valid_from, _today())
    pool = request.app.state.pool
    row = await step_sla_store.replace_policy(pool, policy_id, terms, start, caller.username, caller.area)
    await _announce(request, f"step SLA {policy_id} replaced by {row['id']} by {caller.username}")
    return row


@router.delete("/step-slas/{policy_id}", status_code=204, responses=OUT_OF_REACH)
async def end_policy(
    policy_id: PolicyId,
    request: Request,
    caller: Admin,
    reason: Annotated[str, Query(min_length=1, max_length=200, pattern=NO_NUL, description="why (recorded)")],
) -> None:
    """End an open policy today: the next closest policy (or the product default) applies to new cases."""
    pool = request.app.state.pool
    await step_sla_store.end_policy(pool, policy_id, reason, _today(), caller.username, caller.area)
    await _announce(request, f"step SLA {policy_id} ended by {caller.username}")


@router.get("/step-slas/changes")
async def policy_changes(
    request: Request,
    caller: CommandCentre,
    unit: Annotated[str | None, Query(pattern=UNIT_CODE)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Who changed which policy of the caller's area (or above it) when and why, with the policy before and after."""
    return await step_sla_store.policy_changes(request.app.state.pool, limit, caller.area, unit)


async def _announce(request: Request, reason: str) -> None:
    await request.app.state.notices.announce(step_sla_store.PART, reason)
