"""Read endpoints of the case lifecycle: metrics, supervision records, the public disclosure feed, my reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request

from core.cases import CaseView
from core.inputs import Instant
from dispatch.access.http_auth import Caller, CommandCentre, within_area
from dispatch.access.scope import COMMAND_CENTRE
from dispatch.cases import disclosure, metrics
from dispatch.cases import queries as case_queries

router = APIRouter(prefix="/api/v1", tags=["case lifecycle"])
Dimension = Literal["township", "village", "grid", "team", "person"]
PERSON = r"^[A-Za-z0-9:_.-]{1,64}$"
PERIOD = timedelta(days=30)
EARLIEST = datetime.min.replace(tzinfo=UTC)


@router.get("/metrics")
async def case_metrics(
    request: Request,
    caller: CommandCentre,
    by: Dimension = "township",
    start: Annotated[Instant | None, Query(alias="from", description="period start (default: 30 days ago)")] = None,
    end: Annotated[Instant | None, Query(alias="to", description="period end, exclusive (default: now)")] = None,
) -> list[dict[str, Any]]:
    """结案率, 按期结案率, 返工率, 延期率, median minutes per step, open and overdue, per group (see README)."""
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = start or max(end, EARLIEST + PERIOD) - PERIOD
    if start >= end:
        raise HTTPException(
            status_code=422,
            detail=[{"loc": ["query", "from"], "msg": "from must be before to", "type": "value_error"}],
        )
    return await metrics.compute(request.app.state.pool, by, start, end, caller)


@router.get("/supervisions")
async def supervision_records(
    request: Request,
    caller: Caller,
    person: Annotated[str | None, Query(pattern=PERSON, description="records this person was told of")] = None,
    case: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """督办 records of the caller's cases, newest first."""
    return await disclosure.supervisions(request.app.state.pool, person, case, limit, caller)


@router.get("/disclosures")
async def disclosures(
    request: Request,
    caller: Caller,
    unit: Annotated[str | None, Query(pattern=r"^[0-9]{6}([0-9]{3})?$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """行政执法公示: enforcement decisions of the caller's area, with personal data masked."""
    within_area(caller, unit, "unit")
    return await disclosure.feed(request.app.state.pool, unit or caller.area or None, limit)


@router.get("/reports", response_model=list[CaseView])
async def my_reports(
    request: Request,
    caller: Caller,
    reporter: Annotated[str | None, Query(pattern=PERSON, description="the reporter's id (default: me)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseView]:
    """The cases a person's reports belong to (also when attached to another's case), newest first.

    Anyone sees their own; the command centre sees those of its area's reporters."""
    reporter = reporter or caller.me
    if reporter != caller.me and caller.role not in COMMAND_CENTRE:
        raise HTTPException(status_code=403, detail="reporter: you may list only your own reports")
    scope = None if reporter == caller.me else caller
    return await case_queries.cases_reported_by(request.app.state.pool, reporter, limit, scope)
