"""Real grids in over HTTP: an administrator uploads a county's grid file (GeoJSON or a zipped shapefile) for the units
of their area, checked first and written all or nothing, or only checked (dry run)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from dispatch.access.http_auth import Admin
from dispatch.access.scope import Scope
from dispatch.registry import grid_store
from dispatch.registry.grid_fields import GridFields
from dispatch.registry.grid_file import read_grid_file
from dispatch.registry.grid_rows import GridRow

router = APIRouter(prefix="/api/v1", tags=["registry"])
log = logging.getLogger(__name__)

IMPORT_PATH = "/api/v1/grids/import"
"""The path that takes a whole grid file, which may be larger than other bodies."""

FieldName = Annotated[str | None, Form(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]


def import_area(caller: Scope) -> str:
    """The code prefix an administrator may import grids for: the unit their account administers."""
    return caller.unit_code


@router.post(
    "/grids/import",
    status_code=201,
    responses={
        200: {"description": "dry run: what the import would do; nothing written"},
        404: {"description": "a village or member the file names is not in the registry or not in the caller's area"},
        422: {"description": "the file is unreadable or invalid: one entry per problem, naming the grid"},
    },
)
async def import_grids(
    request: Request,
    response: Response,
    caller: Admin,
    file: Annotated[UploadFile, File(description="GeoJSON FeatureCollection, or a .zip of .shp/.shx/.dbf(/.cpg)")],
    effective_date: Annotated[date, Form(description="first day of the new grids, YYYY-MM-DD")],
    dry_run: Annotated[bool, Form(description="check and report, write nothing")] = False,
    code_field: FieldName = None,
    name_field: FieldName = None,
    households_field: FieldName = None,
    population_field: FieldName = None,
    kind_field: FieldName = None,
    member_field: FieldName = None,
) -> dict[str, Any]:
    """Import grids with their 15-digit codes, households, population, kind and member, in force from
    `effective_date`; the previous grids of each village in the file end the day before. Attribute names default to
    English or the Chinese names county data uses (网格编码, 网格名称, 户数, 人口, 类型, 网格员). Every problem is
    named at its grid; a village or member outside the caller's area answers as one that does not exist."""
    names = {"code": code_field, "name": name_field, "households": households_field}
    names |= {"population": population_field, "kind": kind_field, "member": member_field}
    options = GridFields.with_overrides(**names)
    data = await file.read()
    rows = await asyncio.to_thread(_rows, data, file.filename or "upload", options)
    report = await grid_store.import_grids(
        request.app.state.pool, rows, effective_date, import_area(caller), dry_run=dry_run
    )
    if dry_run:
        response.status_code = 200
        return report
    log.info("%d grids imported by %s from %s", report["grids"], caller.username, file.filename)
    await request.app.state.notices.announce(
        "boundaries", f"grids imported by {caller.username}", revision=report["revision"] or 0
    )
    return report


def _rows(data: bytes, name: str, options: GridFields) -> list[GridRow]:
    return grid_store.grid_rows(read_grid_file(data, name[:200]), options)
