"""Read endpoints of the command centre: cases, grids and units as GeoJSON, queues."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import AwareDatetime, BaseModel

from core.cases import CaseView
from core.vocabulary import CaseState, Category
from dispatch import read_models
from dispatch.read_models import CaseFilter

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
    state: CaseState | None = None,
    open_only: bool = False,
    grid: Annotated[str | None, Query(pattern=CODE)] = None,
    township: Annotated[str | None, Query(pattern=CODE)] = None,
    category: Category | None = None,
    assignee: Annotated[str | None, Query(max_length=64, description="person or team id")] = None,
    overdue: bool = False,
    opened_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    opened_to: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="text in the description")] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> list[CaseView]:
    """Cases, newest first, filtered by state, grid, township, category, assignee, overdue, date and text."""
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
    return await read_models.list_cases(request.app.state.pool, f)


@router.get("/cases/{case_id}", response_model=CaseDetail, responses={404: {"description": "no such case"}})
async def case_detail(case_id: UUID, request: Request) -> CaseDetail:
    """One case and its log."""
    found = await read_models.get_case(request.app.state.pool, case_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"case {case_id} not found")
    return CaseDetail(case=found[0], log=found[1])


@router.get("/grids", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
async def grids(request: Request, township: Annotated[str | None, Query(pattern=CODE)] = None) -> Response:
    """Current grids as GeoJSON (synthetic boundaries are marked `synthetic: true`)."""
    return Response(await read_models.grids_geojson(request.app.state.pool, township), media_type=GEOJSON)


@router.get("/units", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
async def units(
    request: Request, level: Annotated[str, Query(pattern="^(city|county|township|village)$")] = "township"
) -> Response:
    """Current admin units of one level as GeoJSON."""
    return Response(await read_models.units_geojson(request.app.state.pool, level), media_type=GEOJSON)


@router.get("/queues/unrouted")
async def unrouted_queue(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Accepted events no grid or rule could place, waiting for a person."""
    return await read_models.unrouted(request.app.state.pool, limit)


@router.get("/queues/deadletter")
async def dead_letter_queue(
    request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    """Records no processor could read, with the reason, waiting for a person."""
    return await read_models.dead_letters(request.app.state.pool, limit)
