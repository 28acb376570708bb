"""The registry over HTTP: grids and units as GeoJSON, routing rules with their audit, vacant grids, and the past."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from dispatch.access.http_auth import Admin, Caller, CommandCentre
from dispatch.access.scope import NOWHERE
from dispatch.clock import local_day
from dispatch.errors import NotFound
from dispatch.registry import geojson as registry_geojson
from dispatch.registry import history, rules_store
from dispatch.registry.rules_store import RuleSpec

router = APIRouter(prefix="/api/v1", tags=["registry"])
RuleId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _today() -> date:
    return local_day(datetime.now(UTC))


@router.get("/rules")
async def rules(
    request: Request, caller: CommandCentre, unit: Annotated[str | None, Query(pattern=r"^([0-9]{6}|[0-9]{9})$")] = None
) -> list[dict[str, Any]]:
    """Routing rules in force today for the caller's area, by unit and position (county defaults, township overrides);
    a unit outside the area lists nothing, as an unknown unit does."""
    return await rules_store.list_rules(request.app.state.pool, unit, _today(), caller.area)


@router.post("/rules", status_code=201)
async def add_rule(spec: RuleSpec, request: Request, caller: Admin) -> dict[str, Any]:
    """Add a rule, in force from today; the stream processors reload at once."""
    row = await rules_store.add_rule(request.app.state.pool, spec, caller.username)
    await request.app.state.notices.announce("rules", f"rule {row['id']} added by {caller.username}")
    return row


@router.put("/rules/{rule_id}", responses={404: {"description": "no such rule in force"}})
async def change_rule(rule_id: RuleId, spec: RuleSpec, request: Request, caller: Admin) -> dict[str, Any]:
    """Replace a rule: the old version ends today, the new one (new id) starts; both stay in history."""
    row = await rules_store.change_rule(request.app.state.pool, rule_id, spec, caller.username)
    await request.app.state.notices.announce("rules", f"rule {rule_id} changed by {caller.username}")
    return row


@router.delete("/rules/{rule_id}", status_code=204, responses={404: {"description": "no such rule in force"}})
async def retire_rule(rule_id: RuleId, request: Request, caller: Admin) -> None:
    """Retire a rule from today."""
    await rules_store.retire_rule(request.app.state.pool, rule_id, caller.username)
    await request.app.state.notices.announce("rules", f"rule {rule_id} retired by {caller.username}")


@router.get("/rules/changes")
async def rule_changes(
    request: Request, caller: CommandCentre, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Who changed which rule of the caller's area (or above it) when, with the rule before and after."""
    return await rules_store.rule_changes(request.app.state.pool, limit, caller.area)


@router.get("/grids/vacant")
async def vacant_grids(request: Request, caller: CommandCentre) -> list[dict[str, Any]]:
    """Grids of the caller's area without a member today, and the duty post answering meanwhile (属地兜底)."""
    return await registry_geojson.vacant_grids(request.app.state.pool, _today(), caller.area)


GEOJSON = "application/geo+json"


CODE = r"^[0-9]{6,15}$"


@router.get("/grids", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
async def grids(
    request: Request, caller: Caller, township: Annotated[str | None, Query(pattern=CODE)] = None
) -> Response:
    """Current grids of the caller's area as GeoJSON (synthetic boundaries are marked `synthetic: true`); members'
    names only for people's accounts, never for an intake gateway."""
    names = caller.role not in NOWHERE
    text = await registry_geojson.grids_geojson(request.app.state.pool, township, caller.area, names)
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


@router.get("/history/point", responses={404: {"description": "no grid covered the point that day"}})
async def responsible_at(
    request: Request,
    caller: CommandCentre,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    on: Annotated[date, Query(description="YYYY-MM-DD")],
) -> dict[str, Any]:
    """Which grid of the caller's area covered the point on a day, its member and the township's enforcement team
    then; a point of another township answers as one outside every grid."""
    found = await history.responsible_at(request.app.state.pool, lon, lat, on, caller.area)
    if found is None:
        raise NotFound(f"no grid covered ({lon}, {lat}) on {on}")
    return found


@router.get("/history/code/{code}", responses={404: {"description": "no unit or grid ever had the code"}})
async def successors(
    request: Request, caller: CommandCentre, code: Annotated[str, Path(pattern=r"^([0-9]{9}|[0-9]{12}|[0-9]{15})$")]
) -> dict[str, Any]:
    """What an old unit or grid code became, nearest first, with the plan that did it (empty when unchanged)."""
    pool = request.app.state.pool
    if not await history.known_code(pool, code):
        raise NotFound(f"no unit or grid ever had code {code}")
    return {"code": code, "successors": await history.successors(pool, code)}
