"""Case commands over HTTP: checked at once for a clear answer, then applied by the single case writer."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Header, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from core.cases import (
    AssignBody,
    CaseCommand,
    CommandBody,
    MergeBody,
    StageBody,
    SubmitBody,
    VerifyBody,
    command_from_body,
)
from core.enforcement import Evidence
from dispatch.access.http_auth import Caller
from dispatch.cases import command_status
from dispatch.cases.machine import CommandRefused, NotYours, apply
from dispatch.cases.queries import case_in_scope
from dispatch.cases.store import PgCaseStore
from dispatch.clock import local_day
from dispatch.media import store as media_store
from dispatch.people import actors

router = APIRouter(prefix="/api/v1", tags=["case commands"])
IdempotencyKey = Annotated[
    UUID | None, Header(alias="Idempotency-Key", description="the command's id: resending it is harmless")
]
WAIT_SECONDS = 5.0
PERSON_EXISTS = "SELECT 1 FROM people WHERE id = $1 AND valid_to IS NULL"
TEAM_EXISTS = "SELECT 1 FROM teams WHERE id = $1 AND valid_to IS NULL"

REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "the person may not do this on this case, or the account is not a person's"},
    404: {"description": "no such case within the caller's reach"},
    409: {"description": "not allowed in the case's state; the detail says why"},
}


@router.post("/cases/{case_id}/commands", responses=REFUSED)
async def post_command(
    case_id: UUID,
    request: Request,
    body: Annotated[CommandBody, Body(discriminator="kind")],
    caller: Caller,
    command_id: IdempotencyKey = None,
    wait: Annotated[bool, Query(description="wait (a few seconds) until the case writer has applied it")] = True,
) -> JSONResponse:
    """Issue a command on a case (accept, return, assign, verify, start, submit, check, close, cancel, reopen,
    merge, split, supervise, request_extension, decide_extension, stage, request_review, review)."""
    pool = request.app.state.pool
    if not await case_in_scope(pool, case_id, caller):
        raise HTTPException(status_code=404, detail=f"case {case_id} not found")
    actor = await actors.for_caller(pool, caller, local_day(datetime.now(UTC)))
    if actor is None:
        raise HTTPException(status_code=403, detail=f"{caller.username} acts for no person serving today")
    case, _ = await PgCaseStore(pool).load(case_id)
    if case is None:
        raise HTTPException(status_code=404, detail=f"case {case_id} not found")
    await _check_references(pool, body)
    command = command_from_body(body, case_id, actor, datetime.now(UTC), command_id or uuid4())
    try:
        apply(case, command)
    except NotYours as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except CommandRefused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    await request.app.state.commands.send(command)
    outcome = await _outcome(request, command) if wait else {"command_id": command.command_id, "status": "pending"}
    code = {"applied": 200, "refused": 409}.get(str(outcome["status"]), 202)
    return JSONResponse(jsonable_encoder(outcome), status_code=code)


@router.get("/commands/{command_id}", responses={404: {"description": "never seen"}})
async def get_command(command_id: UUID, request: Request, caller: Caller) -> dict[str, Any]:
    """What became of a command on one of the caller's cases: applied (with its log entries), refused, or pending."""
    pool = request.app.state.pool
    found = await command_status.status(pool, command_id)
    case_id = found.get("case_id")
    if case_id is not None and not await case_in_scope(pool, case_id, caller):
        raise HTTPException(status_code=404, detail=f"command {command_id} not found")
    return found


async def _outcome(request: Request, command: CaseCommand) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = await command_status.status(request.app.state.pool, command.command_id)
        if found["status"] != "pending" or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def _check_references(pool: Any, body: CommandBody) -> None:
    """Evidence must be stored media of the kind claimed; an assignee or merge target must exist."""
    evidence: tuple[Evidence, ...] = ()
    if isinstance(body, VerifyBody | SubmitBody | StageBody):
        evidence = body.evidence
    if evidence:
        known = await media_store.describe(pool, [e.sha256 for e in evidence])
        for n, item in enumerate(evidence):
            info = known.get(item.sha256)
            if info is None:
                raise _unprocessable(
                    ["body", "evidence", n, "sha256"], f"no stored media {item.sha256}: upload it first"
                )
            if info.kind != item.kind.value:
                raise _unprocessable(["body", "evidence", n, "kind"], f"media {item.sha256} is a {info.kind}")
    if isinstance(body, AssignBody):
        query = PERSON_EXISTS if body.assignee.kind == "grid_member" else TEAM_EXISTS
        found = await pool.fetchval(query, body.assignee.id)
        if found is None:
            raise _unprocessable(["body", "assignee", "id"], f"no current {body.assignee.kind} {body.assignee.id}")
    if isinstance(body, MergeBody):
        state = await pool.fetchval("SELECT state FROM cases WHERE id = $1 AND closed_at IS NULL", body.into)
        if state is None:
            raise _unprocessable(["body", "into"], f"no open case {body.into} to merge into")


def _unprocessable(loc: list[Any], msg: str) -> HTTPException:
    return HTTPException(status_code=422, detail=[{"loc": loc, "msg": msg, "type": "value_error"}])
