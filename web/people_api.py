"""People and posts: grid members, enforcement officers, legal reviewers and agency staff, added and ended
(never deleted), each change announced so the stream processors route to the people of the day."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from dispatch import people_store
from dispatch.intake import local_day
from dispatch.people_model import GRID_CODE, PersonSpec, PostSpec
from web.registry_api import Actor

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["people"])
PersonId = Annotated[str, Path(min_length=1, max_length=64)]
GridPath = Annotated[str, Path(pattern=GRID_CODE)]
UNIT = r"^([0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$"
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such person or post in service"},
    409: {"description": "the person or post exists already"},
    422: {"description": "bad input, or a unit, grid or team that does not exist or does not fit"},
}


def _today() -> date:
    return local_day(datetime.now(UTC))


def _http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, people_store.Refused):
        detail = [{"loc": list(loc), "msg": msg, "type": "value_error.reference"} for loc, msg in exc.problems]
        return HTTPException(status_code=422, detail=detail)
    if isinstance(exc, people_store.Conflict):
        return HTTPException(status_code=409, detail=str(exc))
    return HTTPException(status_code=404, detail=str(exc))


async def _changed(request: Request, reason: str) -> None:
    log.info("people: %s", reason)
    await request.app.state.notices.announce("people", reason)


@router.get("/people")
async def people(
    request: Request,
    unit: Annotated[str | None, Query(pattern=UNIT, description="county, township, village or grid code")] = None,
    grid: Annotated[str | None, Query(pattern=GRID_CODE, description="people posted to this grid")] = None,
    role: Annotated[str | None, Query(pattern=r"^[a-z_]{2,30}$", description="e.g. grid_member, officer")] = None,
    on: Annotated[date | None, Query(description="day, YYYY-MM-DD (default today)")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    """Who serves a unit (its people and the members of its grids) or a grid, on a day, with their posts."""
    return await people_store.list_people(request.app.state.pool, on or _today(), unit, grid, role, limit)


@router.get("/people/{person_id}", responses={404: {"description": "no such person"}})
async def person(person_id: PersonId, request: Request) -> dict[str, Any]:
    """A person with every post they ever held."""
    found = await people_store.get_person(request.app.state.pool, person_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"person {person_id} not found")
    return found


@router.get("/teams")
async def teams(
    request: Request,
    unit: Annotated[str | None, Query(pattern=r"^([0-9]{6}|[0-9]{9})$", description="county or township")] = None,
) -> list[dict[str, Any]]:
    """Enforcement teams and stationed agencies in service today, with their head counts."""
    return await people_store.list_teams(request.app.state.pool, _today(), unit)


@router.post("/people", status_code=201, responses=ERRORS)
async def add_person(spec: PersonSpec, request: Request, actor: Actor) -> dict[str, Any]:
    """Add a grid member with their grids, or an officer, legal reviewer or agency staff to a township's team."""
    try:
        row = await people_store.add_person(request.app.state.pool, spec, _today())
    except (people_store.Refused, people_store.Conflict) as exc:
        raise _http_error(exc) from exc
    await _changed(request, f"{row['role']} {row['id']} added to {row['unit_code']} by {actor}")
    return row


@router.post("/people/{person_id}/posts", status_code=201, responses=ERRORS)
async def add_post(person_id: PersonId, spec: PostSpec, request: Request, actor: Actor) -> dict[str, Any]:
    """Post a grid member to one more grid of their unit."""
    try:
        row = await people_store.add_post(request.app.state.pool, person_id, spec, _today())
    except (people_store.Refused, people_store.Conflict, people_store.NotFound) as exc:
        raise _http_error(exc) from exc
    await _changed(request, f"{person_id} posted to grid {spec.grid_code} by {actor}")
    return row


@router.delete("/people/{person_id}/posts/{grid_code}", status_code=204, responses=ERRORS)
async def end_post(person_id: PersonId, grid_code: GridPath, request: Request, actor: Actor) -> None:
    """End a person's post on a grid today (kept in history); the grid may become vacant."""
    try:
        await people_store.end_post(request.app.state.pool, person_id, grid_code, _today())
    except people_store.NotFound as exc:
        raise _http_error(exc) from exc
    await _changed(request, f"{person_id} left grid {grid_code}, ended by {actor}")


@router.delete("/people/{person_id}", status_code=204, responses=ERRORS)
async def end_person(person_id: PersonId, request: Request, actor: Actor) -> None:
    """End a person's service today, with every post they hold (kept in history)."""
    try:
        posts = await people_store.end_person(request.app.state.pool, person_id, _today())
    except people_store.NotFound as exc:
        raise _http_error(exc) from exc
    await _changed(request, f"{person_id} ended with {posts} post(s) by {actor}")
