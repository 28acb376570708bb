"""Cameras and sensors over HTTP: the command centre reads its area's devices (a map layer); an administrator or a
gateway's system account registers, changes and ends them within its area."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from core.devices import DEVICE_ID, DeviceKind, DeviceSpec, DeviceView
from core.vocabulary import Role
from dispatch.access.http_auth import CommandCentre, require
from dispatch.access.scope import Scope
from dispatch.clock import local_day
from dispatch.registry import devices

router = APIRouter(prefix="/api/v1", tags=["registry"])
DeviceId = Annotated[str, Path(pattern=DEVICE_ID, description="the device's id as its gateway names it")]
Registrar = Annotated[Scope, Depends(require(Role.ADMIN, Role.SYSTEM))]


def _today() -> date:
    return local_day(datetime.now(UTC))


@router.get("/devices", response_model=list[DeviceView])
async def list_devices(
    request: Request,
    caller: CommandCentre,
    on: Annotated[date | None, Query(description="the day (today by default)")] = None,
    kind: DeviceKind | None = None,
) -> list[dict[str, Any]]:
    """The area's devices in service on a day, each with the grid it falls in that day and its live view."""
    day = on or _today()
    return await devices.on_day(request.app.state.pool, caller.area, day, kind.value if kind else None)


@router.put(
    "/devices/{device_id}",
    response_model=DeviceView,
    responses={409: {"description": "a change dated before the current version"}},
)
async def put_device(device_id: DeviceId, spec: DeviceSpec, request: Request, caller: Registrar) -> dict[str, Any]:
    """Register a device or record its new version from `valid_from`; its unit must be in the caller's area."""
    return await devices.put(request.app.state.pool, device_id, spec, caller.area, caller.username, _today())


@router.delete("/devices/{device_id}", status_code=204)
async def end_device(device_id: DeviceId, request: Request, caller: Registrar) -> None:
    """Take a device out of service from today (its history is kept)."""
    await devices.end(request.app.state.pool, device_id, caller.area, _today())
