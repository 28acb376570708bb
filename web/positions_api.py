"""Positions of grid workers and officers who share them: phones report, the command centre's map shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from core.geo import LonLat
from core.inputs import Instant
from dispatch.access.http_auth import CommandCentre, require
from dispatch.access.scope import Scope
from dispatch.people import positions
from dispatch.people.positions import SHARING_ROLES
from web.hub import LiveHub, LiveMessage

router = APIRouter(prefix="/api/v1/positions", tags=["positions"])
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


@router.put("/me", status_code=204, responses={403: {"description": "not a field role"}})
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


@router.delete("/me", status_code=204)
async def stop_sharing(request: Request, caller: FieldStaff) -> None:
    """Stop sharing: the command centre no longer sees the caller."""
    await positions.stop_sharing(request.app.state.pool, caller)
    hub: LiveHub = request.app.state.hub
    message = {"type": "position_gone", "person_id": caller.me}
    hub.broadcast(LiveMessage(orjson.dumps(message).decode(), region=caller.unit_code))


@router.get("", response_model=list[Position])
async def shared_positions(
    request: Request,
    caller: CommandCentre,
    within_minutes: Annotated[int, Query(ge=1, le=24 * 60, description="reported within this many minutes")] = 30,
) -> list[dict[str, Any]]:
    """The latest shared positions of the people of the caller's area."""
    since = datetime.now(UTC) - timedelta(minutes=within_minutes)
    return await positions.in_area(request.app.state.pool, caller.area, since)
