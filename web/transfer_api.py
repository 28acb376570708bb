"""A dispatcher's transfer of an open case over HTTP (转办): to another grid or party, keeping state and clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from dispatch.access.http_auth import CommandCentre
from dispatch.cases.handover import TransferRequest, transfer_command
from dispatch.cases.machine import apply
from dispatch.cases.queries import case_in_scope
from dispatch.cases.store import PgCaseStore
from dispatch.clock import local_day
from dispatch.errors import Forbidden, NotFound
from dispatch.people import actors
from web.cases_api import PENDING, REFUSED, IdempotencyKey, _outcome, _publish

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
    pool = request.app.state.pool
    if not await case_in_scope(pool, case_id, caller):
        raise NotFound(f"case {case_id} not found")
    actor = await actors.for_caller(pool, caller, local_day(datetime.now(UTC)))
    if actor is None:
        raise Forbidden(f"{caller.username} acts for no person serving today")
    case, _ = await PgCaseStore(pool).load(case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    command = await transfer_command(pool, body, caller, actor, datetime.now(UTC), (case_id, command_id or uuid4()))
    apply(case, command)  # CommandRefused (409), or NotYours (403)
    outcome = await _outcome(request, command) if wait else await _publish(request, command)
    code = {"applied": 200, "refused": 409}.get(str(outcome["status"]), 202)
    return JSONResponse(jsonable_encoder(outcome), status_code=code)
