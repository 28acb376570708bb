"""Sign-in (OAuth2 password flow), refresh with rotation, sign-out, who am I, and who read personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from core.inputs import NO_NUL, Instant
from dispatch.access import access_log
from dispatch.access import users as users_store
from dispatch.access.http_auth import Admin, Caller, address, guard_of, rate_limit
from dispatch.access.users import User
from dispatch.errors import Invalid

router = APIRouter(prefix="/api/v1", tags=["access"])


class Me(BaseModel):
    """The signed-in user: account, role, unit and registry person."""

    username: str
    role: str
    unit_code: str
    person_id: str | None
    team_id: str | None
    area: str = Field(description="code prefix of the region the user sees ('' for all)")


class Tokens(BaseModel):
    """An access token (short-lived JWT) and a refresh token (rotated on each use)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds the access token is valid")
    refresh_token: str
    user: Me


class RefreshBody(BaseModel):
    """A refresh token to trade in or revoke."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")


REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"description": "wrong credentials or token"},
    423: {"description": "account locked"},
}


LIMITED: dict[int | str, dict[str, Any]] = {429: {"description": "too many attempts; see Retry-After"}}


def _me(user: User) -> Me:
    scope = user.scope()
    return Me(
        username=user.username,
        role=user.role.value,
        unit_code=user.unit_code,
        person_id=user.person_id,
        team_id=user.team_id,
        area=scope.area,
    )


def _tokens(request: Request, user: User, refresh: str, now: datetime) -> Tokens:
    guard = guard_of(request)
    access = guard.tokens.issue(user, now)
    return Tokens(
        access_token=access,
        expires_in=int(guard.tokens.lifetime.total_seconds()),
        refresh_token=refresh,
        user=_me(user),
    )


@router.post("/auth/token", response_model=Tokens, responses={**REFUSED, **LIMITED})
async def sign_in(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Tokens:
    """Sign in with username and password (form fields); repeated failures lock the account for a while."""
    if "\x00" in form.username:
        raise Invalid("must not contain NUL", ("body", "username"))
    settings = guard_of(request).settings
    rate_limit(request, settings.rate_login_per_address, "sign-in attempts from this address", address(request))
    rate_limit(request, settings.rate_login_per_user, "sign-in attempts for this user", form.username.lower())
    now = datetime.now(UTC)
    user = await users_store.authenticate(
        request.app.state.pool,
        form.username,
        form.password,
        now,
        settings.login_max_failures,
        timedelta(minutes=settings.lockout_minutes),
    )
    refresh = await users_store.issue_refresh(
        request.app.state.pool, user.username, now, timedelta(days=settings.refresh_token_days)
    )
    return _tokens(request, user, refresh, now)


@router.post("/auth/refresh", response_model=Tokens, responses={401: {"description": "refresh refused"}, **LIMITED})
async def refresh(body: RefreshBody, request: Request) -> Tokens:
    """Trade a refresh token for new tokens (the old refresh token is spent)."""
    settings = guard_of(request).settings
    rate_limit(request, settings.rate_login_per_address, "token refreshes from this address", address(request))
    now = datetime.now(UTC)
    user, fresh = await users_store.rotate_refresh(
        request.app.state.pool, body.refresh_token, now, timedelta(days=settings.refresh_token_days)
    )
    return _tokens(request, user, fresh, now)


@router.post("/auth/logout", status_code=204)
async def sign_out(body: RefreshBody, request: Request, caller: Caller) -> None:
    """Revoke the refresh token and every token rotated from it."""
    await users_store.revoke_refresh(request.app.state.pool, caller.username, body.refresh_token, datetime.now(UTC))


@router.get("/auth/me", response_model=Me, responses={401: {"description": "not signed in"}})
async def me(caller: Caller) -> Me:
    """The signed-in user as the token describes them."""
    return Me(
        username=caller.username,
        role=caller.role.value,
        unit_code=caller.unit_code,
        person_id=caller.person_id,
        team_id=caller.team_id,
        area=caller.area,
    )


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
