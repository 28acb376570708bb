"""Who read personal data, for administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from core.inputs import NO_NUL, Instant
from dispatch.access import access_log
from dispatch.access.http_auth import Admin

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/access-log")
async def access_records(
    request: Request,
    caller: Admin,
    since: Instant | None = None,
    username: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    subject: Annotated[
        str | None, Query(max_length=100, pattern=NO_NUL, description="case id, media hash, person id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Reads of reporters' names and phones, people's contacts and photos: who, when, from where, what."""
    return await access_log.entries(request.app.state.pool, since, username, subject, limit)
