"""Read endpoints of the command centre: cases, grids and units as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel

from core.cases import CaseView
from core.inputs import NO_NUL, Instant
from core.vocabulary import CaseState, Category
from dispatch.access import access_log
from dispatch.access.http_auth import Caller, address
from dispatch.cases import queries as case_queries
from dispatch.cases.queries import CaseFilter
from dispatch.registry import geojson as registry_geojson

router = APIRouter(prefix="/api/v1", tags=["command centre"])
GEOJSON = "application/geo+json"
CODE = r"^[0-9]{6,15}$"


class CaseDetail(BaseModel):
    """A case with its log."""

    case: CaseView
    log: list[dict[str, Any]]


@router.get("/cases", response_model=list[CaseView])
async def cases(
    request: Request,
    caller: Caller,
    state: CaseState | None = None,
    open_only: bool = False,
    grid: Annotated[str | None, Query(pattern=CODE)] = None,
    township: Annotated[str | None, Query(pattern=CODE)] = None,
    category: Category | None = None,
    assignee: Annotated[str | None, Query(max_length=64, pattern=NO_NUL, description="person or team id")] = None,
    overdue: bool = False,
    opened_from: Annotated[Instant | None, Query(alias="from")] = None,
    opened_to: Annotated[Instant | None, Query(alias="to")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, pattern=NO_NUL, description="text in the description")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> list[CaseView]:
    """The caller's cases, newest first, filtered by state, grid, township, category, assignee, overdue, date and
    text."""
    f = CaseFilter(
        state=state,
        open_only=open_only,
        grid_code=grid,
        township_code=township,
        category=category,
        assignee=assignee,
        overdue=overdue,
        opened_from=opened_from,
        opened_to=opened_to,
        search=q,
        limit=limit,
    )
    return await case_queries.list_cases(request.app.state.pool, f, caller)


@router.get("/cases/{case_id}", response_model=CaseDetail, responses={404: {"description": "no such case"}})
async def case_detail(case_id: UUID, request: Request, caller: Caller) -> CaseDetail:
    """One of the caller's cases and its log; reading reporters' names, phones or photos is logged."""
    pool = request.app.state.pool
    found = await case_queries.get_case(pool, case_id, caller)
    if found is None:
        raise HTTPException(status_code=404, detail=f"case {case_id} not found")
    personal = access_log.personal_fields(found[1])
    if personal:
        await access_log.record(pool, caller, address(request), "case", str(case_id), personal)
    return CaseDetail(case=found[0], log=found[1])


@router.get("/grids", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
async def grids(
    request: Request, caller: Caller, township: Annotated[str | None, Query(pattern=CODE)] = None
) -> Response:
    """Current grids of the caller's area as GeoJSON (synthetic boundaries are marked `synthetic: true`)."""
    text = await registry_geojson.grids_geojson(request.app.state.pool, township, caller.area)
    return Response(text, media_type=GEOJSON)


@router.get("/units", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
async def units(
    request: Request,
    caller: Caller,
    level: Annotated[str, Query(pattern="^(city|county|township|village)$")] = "township",
) -> Response:
    """Current admin units of one level, in or above the caller's area, as GeoJSON."""
    return Response(
        await registry_geojson.units_geojson(request.app.state.pool, level, caller.area), media_type=GEOJSON
    )
