"""People and posts (grid members, officers, legal reviewers, agency staff), and field staff's shared positions."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from core.geo import LonLat
from core.inputs import NO_NUL, Instant
from dispatch.access import access_log
from dispatch.access.http_auth import Caller, CommandCentre, address, require, within_area
from dispatch.access.scope import COMMAND_CENTRE, TEAM_ROLES, Scope
from dispatch.clock import local_day
from dispatch.errors import Forbidden, NotFound
from dispatch.people import positions
from dispatch.people import store as people_store
from dispatch.people.model import GRID_CODE, PersonSpec, PostSpec
from dispatch.people.positions import SHARING_ROLES
from web.hub import LiveHub, LiveMessage

router = APIRouter(prefix="/api/v1", tags=["people"])
log = logging.getLogger(__name__)


PersonId = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL)]


GridPath = Annotated[str, Path(pattern=GRID_CODE)]


UNIT = r"^([0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$"


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such person or post in service"},
    409: {"description": "the person or post exists already"},
    422: {"description": "bad input, or a unit, grid or team that does not exist or does not fit"},
}


Colleagues = Annotated[Scope, Depends(require(*COMMAND_CENTRE, *TEAM_ROLES))]


def _today() -> date:
    return local_day(datetime.now(UTC))


async def _changed(request: Request, reason: str) -> None:
    log.info("people: %s", reason)
    await request.app.state.notices.announce("people", reason)


@router.get("/people")
async def people(
    request: Request,
    caller: Colleagues,
    unit: Annotated[str | None, Query(pattern=UNIT, description="county, township, village or grid code")] = None,
    grid: Annotated[str | None, Query(pattern=GRID_CODE, description="people posted to this grid")] = None,
    role: Annotated[str | None, Query(pattern=r"^[a-z_]{2,30}$", description="e.g. grid_member, officer")] = None,
    on: Annotated[date | None, Query(description="day, YYYY-MM-DD (default today)")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    """Who serves a unit of the caller's area (its people, the members of its grids) or a grid, on a day, with
    their posts; names and phones are personal data, so each listing is logged."""
    within_area(caller, unit, "unit")
    within_area(caller, grid, "grid")
    if unit is None and grid is None and caller.area:
        unit = caller.area
    pool = request.app.state.pool
    found = await people_store.list_people(pool, on or _today(), unit, grid, role, limit)
    subject = f"unit:{unit}" if grid is None else f"grid:{grid}"
    await access_log.record(pool, caller, address(request), "people", subject, ["name", "phone"])
    return found


@router.get("/people/{person_id}", responses={404: {"description": "no such person"}})
async def person(person_id: PersonId, request: Request, caller: Caller) -> dict[str, Any]:
    """A person of the caller's area (or the caller) with every post they ever held; each read is logged."""
    pool = request.app.state.pool
    found = await people_store.get_person(pool, person_id)
    mine = person_id == caller.person_id
    colleague = caller.role in COMMAND_CENTRE | TEAM_ROLES
    if found is None or not (mine or (colleague and str(found["unit_code"]).startswith(caller.area))):
        raise NotFound(f"person {person_id} not found")
    if not mine:
        await access_log.record(pool, caller, address(request), "person", person_id, ["name", "phone"])
    return found


@router.get("/teams")
async def teams(
    request: Request,
    caller: Caller,
    unit: Annotated[str | None, Query(pattern=r"^([0-9]{6}|[0-9]{9})$", description="county or township")] = None,
) -> list[dict[str, Any]]:
    """Enforcement teams and stationed agencies of the caller's area in service today, with their head counts."""
    within_area(caller, unit, "unit")
    if unit is None and caller.area:
        unit = caller.area
    return await people_store.list_teams(request.app.state.pool, _today(), unit)


@router.post("/people", status_code=201, responses=ERRORS)
async def add_person(spec: PersonSpec, request: Request, caller: CommandCentre) -> dict[str, Any]:
    """Add a grid member with their grids, or an officer, legal reviewer or agency staff to a township's team."""
    within_area(caller, spec.unit_code, "unit_code")
    for grid in spec.grids:
        within_area(caller, grid, "grids")
    if spec.unit_code is None and caller.area:
        raise Forbidden("unit_code: name the township of your area")
    row = await people_store.add_person(request.app.state.pool, spec, _today())
    await _changed(request, f"{row['role']} {row['id']} added to {row['unit_code']} by {caller.username}")
    return row


@router.post("/people/{person_id}/posts", status_code=201, responses=ERRORS)
async def add_post(person_id: PersonId, spec: PostSpec, request: Request, caller: CommandCentre) -> dict[str, Any]:
    """Post a grid member to one more grid of their unit."""
    within_area(caller, spec.grid_code, "grid_code")
    row = await people_store.add_post(request.app.state.pool, person_id, spec, _today())
    await _changed(request, f"{person_id} posted to grid {spec.grid_code} by {caller.username}")
    return row


@router.delete("/people/{person_id}/posts/{grid_code}", status_code=204, responses=ERRORS)
async def end_post(person_id: PersonId, grid_code: GridPath, request: Request, caller: CommandCentre) -> None:
    """End a person's post on a grid today (kept in history); the grid may become vacant."""
    within_area(caller, grid_code, "grid_code")
    await people_store.end_post(request.app.state.pool, person_id, grid_code, _today())
    await _changed(request, f"{person_id} left grid {grid_code}, ended by {caller.username}")


@router.delete("/people/{person_id}", status_code=204, responses=ERRORS)
async def end_person(person_id: PersonId, request: Request, caller: CommandCentre) -> None:
    """End a person's service today, with every post they hold (kept in history); their accounts are disabled."""
    found = await people_store.get_person(request.app.state.pool, person_id)
    if found is None or not str(found["unit_code"]).startswith(caller.area):
        raise NotFound(f"person {person_id} not found")
    posts = await people_store.end_person(request.app.state.pool, person_id, _today())
    await _changed(request, f"{person_id} ended with {posts} post(s) by {caller.username}")


FieldStaff = Annotated[Scope, Depends(require(*SHARING_ROLES))]


class PositionReport(LonLat):
    """Where the phone is, how exactly, and when it was measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    at: Instant | None = Field(default=None, description="when measured (default: now)")


class Position(BaseModel):
    """A person's latest shared position."""

    person_id: str
    name: str
    role: str
    unit_code: str
    team_id: str | None
    lon: float
    lat: float
    accuracy_m: float | None
    at: datetime


@router.put("/positions/me", status_code=204, responses={403: {"description": "not a field role"}})
async def share_position(body: PositionReport, request: Request, caller: FieldStaff) -> None:
    """Share the caller's position with their command centre (the latest replaces the previous)."""
    now = datetime.now(UTC)
    at = min(body.at or now, now)
    name = await positions.share(request.app.state.pool, caller, body.lon, body.lat, body.accuracy_m, at)
    shared = Position(
        person_id=caller.me,
        name=name,
        role=caller.role.value,
        unit_code=caller.unit_code,
        team_id=caller.team_id,
        lon=body.lon,
        lat=body.lat,
        accuracy_m=body.accuracy_m,
        at=at,
    )
    message = {"type": "position", "position": shared.model_dump(mode="json")}
    hub: LiveHub = request.app.state.hub
    hub.broadcast(LiveMessage(orjson.dumps(message).decode(), region=caller.unit_code))


@router.delete("/positions/me", status_code=204)
async def stop_sharing(request: Request, caller: FieldStaff) -> None:
    """Stop sharing: the command centre no longer sees the caller."""
    await positions.stop_sharing(request.app.state.pool, caller)
    hub: LiveHub = request.app.state.hub
    message = {"type": "position_gone", "person_id": caller.me}
    hub.broadcast(LiveMessage(orjson.dumps(message).decode(), region=caller.unit_code))


@router.get("/positions", response_model=list[Position])
async def shared_positions(
    request: Request,
    caller: CommandCentre,
    within_minutes: Annotated[int, Query(ge=1, le=24 * 60, description="reported within this many minutes")] = 30,
) -> list[dict[str, Any]]:
    """The latest shared positions of the people of the caller's area."""
    since = datetime.now(UTC) - timedelta(minutes=within_minutes)
    return await positions.in_area(request.app.state.pool, caller.area, since)
