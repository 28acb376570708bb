"""The base maps over HTTP: which ones the deployment offers, and the local PMTiles file, read by byte ranges."""

from __future__ import annotations

import logging
import os

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from dispatch.access.http_auth import Caller
from dispatch.errors import NotFound
from web.basemap import PMTILES_PATH, BaseMap, basemaps
from web.settings import WebSettings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["map"])
PMTILES_TYPE = "application/vnd.pmtiles"
CACHE = "private, max-age=3600"
"""Tiles change only when the file is replaced; the ETag (size and time) tells a browser when."""


def _settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


@router.get("/basemaps")
async def offered_basemaps(request: Request, caller: Caller) -> list[BaseMap]:
    """The base maps the pages may draw under the grids, in the layer switch's order; empty when none is configured
    (the offline default: the project's own layers only)."""
    return basemaps(_settings(request))


@router.get(
    PMTILES_PATH.removeprefix("/api/v1"),
    response_class=FileResponse,
    responses={
        200: {"content": {PMTILES_TYPE: {}}, "description": "the whole file (no Range header)"},
        206: {"content": {PMTILES_TYPE: {}}, "description": "the bytes of the Range header's range"},
        404: {"description": "no local base map is configured (GRID_BASEMAP_PMTILES), or its file is missing"},
        416: {"description": "the range starts beyond the file; Content-Range gives its size"},
    },
)
async def local_pmtiles(request: Request, caller: Caller) -> FileResponse:
    """The local base map's PMTiles file for any signed-in account (one map for the whole deployment, so no area
    applies): `Range: bytes=a-b` answers 206 with those bytes, a range beyond the end 416."""
    path = _settings(request).basemap_pmtiles
    if not path:
        raise NotFound("no local base map is configured (GRID_BASEMAP_PMTILES)")
    if not os.path.isfile(path):  # noqa: ASYNC240 - one stat
        log.warning("GRID_BASEMAP_PMTILES names %s, which is not a file", path)
        raise NotFound("the local base map's file is missing")
    return FileResponse(path, media_type=PMTILES_TYPE, headers={"Cache-Control": CACHE})
