"""Each person's inbox over HTTP: the notices addressed to the caller, newest first, and marking them read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from core.notices import Notice
from dispatch.access.http_auth import Caller
from dispatch.cases import inbox
from dispatch.errors import Invalid

router = APIRouter(prefix="/api/v1", tags=["inbox"])
PG_BIGINT = 2**63 - 1


class Inbox(BaseModel):
    """A page of the caller's notices and how many of all of them are unread."""

    items: list[Notice]
    unread: int
    next_before: int | None = Field(description="pass as `before` for the next page; null on the last")


class MarkRead(BaseModel):
    """Which notices to mark read: these ids, or every unread one (`all`)."""

    ids: list[Annotated[int, Field(ge=1, le=PG_BIGINT)]] | None = Field(default=None, max_length=500)
    all: bool = False


class Marked(BaseModel):
    """How many notices were marked read, and how many stay unread."""

    marked: int
    unread: int


@router.get("/inbox", response_model=Inbox)
async def list_inbox(
    request: Request,
    caller: Caller,
    unread: Annotated[bool, Query(description="only unread notices")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=PG_BIGINT, description="notices older than this id")] = None,
) -> Inbox:
    """The notices addressed to the caller (dispatches, returns, 督办, review requests, extension decisions, deadlines
    about to pass), newest first. An account that is no person's has an empty inbox."""
    pool = request.app.state.pool
    if caller.person_id is None:
        return Inbox(items=[], unread=0, next_before=None)
    items = await inbox.list_notices(pool, caller.person_id, unread, limit, before)
    count = await inbox.unread_count(pool, caller.person_id)
    return Inbox(items=items, unread=count, next_before=items[-1].id if len(items) == limit else None)


@router.post("/inbox/read", response_model=Marked)
async def mark_read(body: MarkRead, request: Request, caller: Caller) -> Marked:
    """Mark the caller's notices read: the ids given (others' ids change nothing), or all of them."""
    if not body.all and not body.ids:
        raise Invalid("give the ids to mark read, or all: true", ("body", "ids"))
    if caller.person_id is None:
        return Marked(marked=0, unread=0)
    pool = request.app.state.pool
    marked = await inbox.mark_read(pool, caller.person_id, None if body.all else body.ids)
    return Marked(marked=marked, unread=await inbox.unread_count(pool, caller.person_id))
