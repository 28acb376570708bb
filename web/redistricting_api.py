"""Redistricting plans over HTTP: validate, apply and list them."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import APIRouter, Path, Query, Request

from core.plans import PLAN_ID, RedistrictingPlan
from dispatch.access.http_auth import Admin
from dispatch.db import create_pool
from dispatch.errors import NotFound
from dispatch.redistricting import store as plan_store
from dispatch.redistricting.validate import Outcome
from dispatch.registry import history
from dispatch.registry.revisions import bump_revision

router = APIRouter(prefix="/api/v1", tags=["redistricting"])
log = logging.getLogger(__name__)


PLAN_PATHS = ("/api/v1/plans", "/api/v1/plans/validate")
"""Paths that take a whole plan, which may be larger than other bodies (drawn areas)."""


INVALID: dict[int | str, dict[str, Any]] = {
    409: {"description": "the plan cannot stack on the registry: out of order, stale, or clashing with a plan"},
    422: {"description": "the plan is invalid; each error names its item"},
}
Revision = Annotated[
    int | None,
    Query(ge=0, description="the `registry_revision` the plan was validated against; refused with 409 if it moved"),
]


T = TypeVar("T")


def outcome_summary(plan: RedistrictingPlan, out: Outcome) -> dict[str, Any]:
    """What a plan changes, in counts."""
    return {
        "plan_id": plan.plan_id,
        "county": plan.county,
        "effective_date": plan.effective_date,
        "legal_basis": plan.legal_basis,
        "items": len(plan.items),
        **out.counts,
        "lineage": dict(sorted(Counter(f"{e.level} {e.kind}" for e in out.lineage).items())),
        "staff_review": out.staff_review,
    }


async def off_loop(database_url: str, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """Run plan work (about a second of geometry for a county) on a thread with its own pool, so intake goes on."""

    def run() -> T:
        async def go() -> T:
            pool = await create_pool(database_url, max_size=1)
            try:
                return await work(pool)
            finally:
                await pool.close()

        return asyncio.run(go())

    return await asyncio.to_thread(run)


@router.post("/plans/validate", responses=INVALID)
async def validate_plan(
    plan: RedistrictingPlan, request: Request, caller: Admin, registry_revision: Revision = None
) -> dict[str, Any]:
    """Check a plan against the registry as of its effective date, every applied plan in it; nothing changes."""
    out = await off_loop(
        request.app.state.settings.database_url, lambda pool: plan_store.validate(pool, plan, registry_revision)
    )
    return {"valid": True, **outcome_summary(plan, out)}


@router.post(
    "/plans",
    status_code=201,
    responses={
        **INVALID,
        409: {
            "description": "a plan with this id exists, or it cannot stack on the registry (out of order, stale,"
            " clashing)"
        },
    },
)
async def apply_plan(
    plan: RedistrictingPlan, request: Request, caller: Admin, registry_revision: Revision = None
) -> dict[str, Any]:
    """Validate and apply a plan; it travels on the registry topic and open cases move to the successors."""
    pool: asyncpg.Pool = request.app.state.pool
    try:
        out = await off_loop(
            request.app.state.settings.database_url,
            lambda db: plan_store.apply(db, plan, caller.username, registry_revision),
        )
    except plan_store.PlanAlreadyApplied:
        stored = await history.applied_plan(pool, plan.plan_id)
        if stored is not None:  # announce what is recorded again, in case the first notice was lost
            await request.app.state.notices.announce("plan", f"plan {plan.plan_id} re-announced", plan=stored)
        raise
    async with pool.acquire() as conn:
        revision = await bump_revision(conn, "plan")
    log.info("plan %s applied by %s", plan.plan_id, caller.username)
    await request.app.state.notices.announce(
        "plan", f"plan {plan.plan_id} applied by {caller.username}", revision=revision, plan=plan
    )
    return {**outcome_summary(plan, out), "applied_by": caller.username, "revision": revision}


@router.get("/plans")
async def plans(request: Request, caller: Admin) -> list[dict[str, Any]]:
    """Applied plans, newest effective date first."""
    return await history.applied_plans(request.app.state.pool)


@router.get("/plans/{plan_id}", responses={404: {"description": "no such plan"}})
async def plan(plan_id: Annotated[str, Path(pattern=PLAN_ID)], request: Request, caller: Admin) -> RedistrictingPlan:
    """A plan as it was applied."""
    found = await history.applied_plan(request.app.state.pool, plan_id)
    if found is None:
        raise NotFound(f"plan {plan_id} was not applied")
    return found
