"""The 督办 board over HTTP: overdue and supervised cases of the caller's area, per township and level."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from dispatch.access.http_auth import CommandCentre
from dispatch.cases import board

router = APIRouter(prefix="/api/v1", tags=["cases"])


@router.get("/supervision/board", response_model=board.Board)
async def supervision_board(
    request: Request,
    caller: CommandCentre,
    limit: Annotated[int, Query(ge=1, le=2000, description="most cases listed (the counts are complete)")] = 500,
) -> board.Board:
    """Per township of the caller's area: open cases at each 督办 level and overdue ones not yet supervised, with the
    cases most urgent first (the highest level, then the longest overdue)."""
    return await board.supervision_board(request.app.state.pool, caller, datetime.now(UTC), limit)
