"""Sign-in (OAuth2 password flow), refresh with rotation, sign-out, who am I, and who read personal data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from core.inputs import NO_NUL, Instant
from dispatch.access import access_log
from dispatch.access import users as users_store
from dispatch.access.http_auth import Admin, Caller, address, guard_of, rate_limit
from dispatch.access.rate_limits import RateLimited
from dispatch.access.users import Grant, LoginRefused, User
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


REFUSED: dict[int | str, dict[str, Any]] = {401: {"description": "wrong credentials or token"}}


LIMITED: dict[int | str, dict[str, Any]] = {429: {"description": "too many attempts; see Retry-After"}}
WRONG_PASSWORDS = "wrong passwords for this name from this address"
"""Counted per (name, address) only when a sign-in fails; the same for a name that does not exist."""


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


def _tokens(request: Request, grant: Grant) -> Tokens:
    """The pair of a grant; the access token's id and instant follow from the refresh token, so the same grant
    (a refresh retried within its grace) answers the same pair."""
    issuer = guard_of(request).tokens
    access = issuer.issue(grant.user, grant.issued_at, grant.family, issuer.derive("jti", grant.refresh))
    return Tokens(
        access_token=access,
        expires_in=int(issuer.lifetime.total_seconds()),
        refresh_token=grant.refresh,
        user=_me(grant.user),
    )


@router.post("/auth/token", response_model=Tokens, responses={**REFUSED, **LIMITED})
async def sign_in(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Tokens:
    """Sign in with username and password (form fields). Wrong passwords from one address make that address wait
    for that name (429); many attempts on one name from everywhere only slow each answer. Nothing locks an account,
    and an unknown name is answered exactly as a wrong password."""
    if "\x00" in form.username:
        raise Invalid("must not contain NUL", ("body", "username"))
    guard = guard_of(request)
    settings = guard.settings
    name, client = form.username.lower(), address(request)
    rate_limit(request, settings.rate_login_per_address, "sign-in attempts from this address", client)
    guard.limiter.check(settings.rate_login_failures, WRONG_PASSWORDS, name, client)
    try:
        guard.limiter.hit(settings.rate_login_per_user, "sign-in attempts for this name", name)
    except RateLimited:
        await asyncio.sleep(settings.login_slowdown_seconds)
    try:
        user = await users_store.authenticate(request.app.state.pool, form.username, form.password)
    except LoginRefused:
        guard.limiter.hit(settings.rate_login_failures, WRONG_PASSWORDS, name, client)
        raise
    grant = await users_store.issue_refresh(
        request.app.state.pool, user, datetime.now(UTC), timedelta(days=settings.refresh_token_days), guard.tokens
    )
    return _tokens(request, grant)


@router.post("/auth/refresh", response_model=Tokens, responses={401: {"description": "refresh refused"}, **LIMITED})
async def refresh(body: RefreshBody, request: Request) -> Tokens:
    """Trade a refresh token for new tokens (the old refresh token is spent; presented again within two minutes,
    it answers the same new pair)."""
    guard = guard_of(request)
    rate_limit(request, guard.settings.rate_login_per_address, "token refreshes from this address", address(request))
    grant = await users_store.rotate_refresh(
        request.app.state.pool,
        body.refresh_token,
        datetime.now(UTC),
        timedelta(days=guard.settings.refresh_token_days),
        guard.tokens,
    )
    return _tokens(request, grant)


@router.post("/auth/logout", status_code=204)
async def sign_out(body: RefreshBody, request: Request, caller: Caller) -> None:
    """End this sign-in: its refresh token and every token rotated from it, and its access tokens within seconds."""
    guard = guard_of(request)
    now = datetime.now(UTC)
    await users_store.revoke_refresh(request.app.state.pool, caller.username, body.refresh_token, now, guard.tokens)
    guard.accounts.forget(caller.username)


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
