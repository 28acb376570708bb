"""A dispatcher's transfer of an open case over HTTP (转办): to another grid or party, keeping state and clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from dispatch.access.http_auth import CommandCentre
from dispatch.cases.handover import TransferRequest, transfer_command
from web.cases_api import PENDING, REFUSED, IdempotencyKey, acting_on, issue

router = APIRouter(prefix="/api/v1", tags=["cases"])


@router.post("/cases/{case_id}/transfer", responses={**PENDING, **REFUSED})
async def transfer(
    case_id: UUID,
    body: TransferRequest,
    request: Request,
    caller: CommandCentre,
    command_id: IdempotencyKey = None,
    wait: Annotated[bool, Query(description="wait (a few seconds) until the case writer has applied it")] = True,
) -> JSONResponse:
    """Transfer an open case, in any open state, to a grid of the caller's area (its member, or the party named)."""
    actor, case = await acting_on(request, case_id, caller)
    ids = (case_id, command_id or uuid4())
    command = await transfer_command(request.app.state.pool, body, caller, actor, datetime.now(UTC), ids)
    return await issue(request, case, command, wait)
