"""Cases over HTTP: the list and one case, commands, metrics, supervision records, disclosures, reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from core.case_views import CaseView
from core.cases import Actor, CaseCommand, CommandBody
from core.categories import as_scope
from core.inputs import NO_NUL, Instant
from core.vocabulary import CaseState
from dispatch.access import access_log
from dispatch.access.http_auth import Caller, CommandCentre, address, rate_limit
from dispatch.access.scope import COMMAND_CENTRE, Scope
from dispatch.cases import command_status, disclosure, metrics, references
from dispatch.cases import queries as case_queries
from dispatch.cases.issue import command_from_body
from dispatch.cases.machine import CaseRecord, apply
from dispatch.cases.queries import CaseFilter, case_in_scope
from dispatch.cases.store import PgCaseStore
from dispatch.clock import local_day
from dispatch.errors import Forbidden, Invalid, NotFound
from dispatch.people import actors
from dispatch.registry.categories_store import check_scope
from web.hub import LiveHub
from web.waiters import settled

router = APIRouter(prefix="/api/v1", tags=["cases"])
IdempotencyKey = Annotated[
    UUID | None, Header(alias="Idempotency-Key", description="the command's id: resending it is harmless")
]


WAIT_SECONDS = 5.0


REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "the person may not do this on this case, or the account is not a person's"},
    404: {
        "description": "no such case, or a reference in the body (assignee, merge target, officer, evidence) that is"
        " not within the caller's reach; the detail names the field"
    },
    409: {"description": "not allowed in the case's state; the detail says why"},
}


PENDING: dict[int | str, dict[str, Any]] = {
    202: {"description": "published, not yet applied (wait=false, or no answer within the wait): see /commands/{id}"}
}


@router.post("/cases/{case_id}/commands", responses={**PENDING, **REFUSED})
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
    actor, case = await acting_on(request, case_id, caller)
    now = datetime.now(UTC)
    party = await references.check(request.app.state.pool, body, case, caller, local_day(now))
    command = command_from_body(body, case_id, actor, now, command_id or uuid4(), party)
    return await issue(request, case, command, wait)


async def acting_on(request: Request, case_id: UUID, caller: Scope) -> tuple[Actor, CaseRecord]:
    """Who the caller acts as, and the case as it stands; NotFound for a case out of reach, Forbidden for an
    account that acts for no serving person."""
    pool = request.app.state.pool
    if not await case_in_scope(pool, case_id, caller):
        raise NotFound(f"case {case_id} not found")
    actor = await actors.for_caller(pool, caller, local_day(datetime.now(UTC)))
    if actor is None:
        raise Forbidden(f"{caller.username} acts for no person serving today")
    case, _ = await PgCaseStore(pool).load(case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return actor, case


async def issue(request: Request, case: CaseRecord, command: CaseCommand, wait: bool) -> JSONResponse:
    """Check `command` on `case` (CommandRefused: 409, NotYours: 403), publish it, and answer with what became of
    it: 200 applied, 409 refused, or 202 still pending."""
    apply(case, command)
    outcome = await _outcome(request, command) if wait else await _publish(request, command)
    code = {"applied": 200, "refused": 409}.get(str(outcome["status"]), 202)
    return JSONResponse(jsonable_encoder(outcome), status_code=code)


@router.get("/commands/{command_id}")
async def get_command(command_id: UUID, request: Request, caller: Caller) -> dict[str, Any]:
    """What became of a command on one of the caller's cases: applied (with its log entries), refused, or pending;
    a command on a case out of reach reads as one never seen (pending)."""
    pool = request.app.state.pool
    found = await command_status.status(pool, command_id)
    case_id = found.get("case_id")
    if case_id is not None and not await case_in_scope(pool, case_id, caller):
        return {"command_id": command_id, "status": "pending"}
    return found


async def _publish(request: Request, command: CaseCommand) -> dict[str, Any]:
    """Publish the command and answer that it is pending."""
    await request.app.state.commands.send(command)
    return {"command_id": command.command_id, "status": "pending"}


async def _outcome(request: Request, command: CaseCommand) -> dict[str, Any]:
    """Publish the command, wait for the hub to see its change, then read its outcome once."""
    # A refused command's change is the case unchanged; a quarantined one publishes none (read when the wait ends).
    hub: LiveHub = request.app.state.hub
    with hub.waiters.expect(command.command_id) as change:
        await request.app.state.commands.send(command)
        await settled(change, WAIT_SECONDS)
    return await command_status.status(request.app.state.pool, command.command_id)


CODE = r"^[0-9]{6,15}$"


class CaseDetail(BaseModel):
    """A case with its log."""

    case: CaseView
    log: list[dict[str, Any]]


async def case_filter(
    request: Request,
    state: CaseState | None = None,
    open_only: bool = False,
    grid: Annotated[str | None, Query(pattern=CODE)] = None,
    township: Annotated[str | None, Query(pattern=CODE)] = None,
    category: Annotated[
        str | None,
        Query(
            pattern=r"^([0-9]{2}|[0-9]{4}|[a-z_]{3,20})$",
            description="大类 (all its 小类) or 小类 code, or a legacy English value (its 大类)",
        ),
    ] = None,
    assignee: Annotated[str | None, Query(max_length=64, pattern=NO_NUL, description="person or team id")] = None,
    overdue: bool = False,
    opened_from: Annotated[Instant | None, Query(alias="from")] = None,
    opened_to: Annotated[Instant | None, Query(alias="to")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, pattern=NO_NUL, description="text in the description")
    ] = None,
) -> CaseFilter:
    """The case list's filters, as the list and its export take them; a category the table lacks is refused."""
    scope = as_scope(category) if category is not None else None
    await check_scope(request.app.state.pool, scope, ("query", "category"))
    return CaseFilter(state, open_only, grid, township, scope, assignee, overdue, opened_from, opened_to, q)


ListFilter = Annotated[CaseFilter, Depends(case_filter)]


@router.get("/cases", response_model=list[CaseView])
async def cases(
    request: Request,
    caller: Caller,
    f: ListFilter,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> list[CaseView]:
    """The caller's cases, newest first, filtered by state, grid, township, category, assignee, overdue, date and
    text."""
    return await case_queries.list_cases(request.app.state.pool, replace(f, limit=limit), caller)


@router.get("/cases/{case_id}", response_model=CaseDetail, responses={404: {"description": "no such case"}})
async def case_detail(case_id: UUID, request: Request, caller: Caller) -> CaseDetail:
    """One of the caller's cases and its log; reading reporters' names, phones or photos is logged."""
    pool = request.app.state.pool
    found = await case_queries.get_case(pool, case_id, caller)
    if found is None:
        raise NotFound(f"case {case_id} not found")
    personal = access_log.personal_fields(found[1])
    if personal:
        await access_log.record(pool, caller, address(request), "case", str(case_id), personal)
    return CaseDetail(case=found[0], log=found[1])


Dimension = Literal["township", "village", "grid", "team", "person", "major_category", "category"]


PERSON = r"^[A-Za-z0-9:_.-]{1,64}$"


PERIOD = timedelta(days=30)


MAX_PERIOD = timedelta(days=366)


EARLIEST = datetime.min.replace(tzinfo=UTC)


@router.get("/metrics", responses={422: {"description": "a bad period: from after to, or longer than 366 days"}})
async def case_metrics(
    request: Request,
    caller: CommandCentre,
    by: Dimension = "township",
    start: Annotated[Instant | None, Query(alias="from", description="period start (default: 30 days ago)")] = None,
    end: Annotated[Instant | None, Query(alias="to", description="period end, exclusive (default: now)")] = None,
) -> list[dict[str, Any]]:
    """结案率, 按期结案率, 返工率, 延期率, median minutes per step, open and overdue, per group (see README)."""
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = start or max(end, EARLIEST + PERIOD) - PERIOD
    if start >= end:
        raise Invalid("from must be before to", ("query", "from"))
    if end - start > MAX_PERIOD:
        raise Invalid(f"from must be at most {MAX_PERIOD.days} days before to", ("query", "from"))
    return await metrics.compute(request.app.state.pool, by, start, end, caller)


@router.get("/supervisions")
async def supervision_records(
    request: Request,
    caller: Caller,
    person: Annotated[str | None, Query(pattern=PERSON, description="records this person was told of")] = None,
    case: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """督办 records of the caller's cases, newest first."""
    return await disclosure.supervisions(request.app.state.pool, person, case, limit, caller)


PUBLIC_FEED: dict[int | str, dict[str, Any]] = {
    422: {"description": "a bad unit, limit or cursor; the field is named"},
    429: {"description": "too many requests from this address; see Retry-After"},
}


@router.get("/disclosures", response_model=disclosure.DisclosurePage, responses=PUBLIC_FEED)
async def disclosures(
    request: Request,
    unit: Annotated[str | None, Query(pattern=r"^[0-9]{6}([0-9]{3})?$", description="a county or township")] = None,
    limit: Annotated[int, Query(ge=1, le=disclosure.PAGE_MAX)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the page before")
    ] = None,
) -> disclosure.DisclosurePage:
    """行政执法公示, public (no token): enforcement decisions, newest first, a page at a time, with a person's name
    and ID number masked and the place cut to its village; limited per address."""
    rate_limit(request, request.app.state.settings.rate_public_per_address, "disclosure requests", address(request))
    return await disclosure.feed(request.app.state.pool, unit, limit, cursor)


@router.get("/reports", response_model=list[CaseView])
async def my_reports(
    request: Request,
    caller: Caller,
    reporter: Annotated[str | None, Query(pattern=PERSON, description="the reporter's id (default: me)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseView]:
    """The cases a person's reports belong to (also when attached to another's case), newest first.

    Anyone sees their own; the command centre sees those of its area's reporters."""
    reporter = reporter or caller.me
    if reporter != caller.me and caller.role not in COMMAND_CENTRE:
        raise Forbidden("reporter: you may list only your own reports")
    scope = None if reporter == caller.me else caller
    return await case_queries.cases_reported_by(request.app.state.pool, reporter, limit, scope)
