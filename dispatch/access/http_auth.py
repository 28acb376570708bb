"""FastAPI dependencies shared by the web app and the intake: who is calling, may they, and not too often."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from core.vocabulary import Role
from dispatch.access.rate_limits import RateLimiter
from dispatch.access.scope import COMMAND_CENTRE, Scope
from dispatch.access.sessions import AccountCheck
from dispatch.access.tokens import AccessClaims, TokenIssuer
from dispatch.errors import Forbidden, Unauthorized
from dispatch.settings import AuthSettings

TOKEN_URL = "/api/v1/auth/token"
BEARER = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass
class Guard:
    """What the dependencies need from the app: the token issuer, the account check, the rate limiter and their
    settings."""

    settings: AuthSettings
    tokens: TokenIssuer
    accounts: AccountCheck
    limiter: RateLimiter

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> Guard:
        """A guard with the configured secret and token lifetime."""
        lifetime = timedelta(minutes=settings.access_token_minutes)
        issuer = TokenIssuer(settings.jwt_secret.get_secret_value(), lifetime)
        accounts = AccountCheck(settings.session_check_seconds, lifetime)
        return cls(settings, issuer, accounts, RateLimiter(settings.rate_limit_file))

    async def admit(self, pool: asyncpg.Pool, token: str) -> AccessClaims:
        """The claims of a valid token whose account still honours it; BadToken otherwise."""
        claims = self.tokens.read(token)
        await self.accounts.admit(pool, claims)
        return claims


def guard_of(request: Request) -> Guard:
    """The app's guard."""
    guard: Guard = request.app.state.guard
    return guard


def address(request: Request) -> str:
    """The client's address: the socket's peer. uvicorn replaces it with X-Forwarded-For only when the peer is one
    of GRID_TRUSTED_PROXIES (--forwarded-allow-ips, empty by default); nothing here reads that header."""
    return request.client.host if request.client else "unknown"


async def current_user(request: Request, token: Annotated[str | None, Depends(BEARER)]) -> Scope:
    """The caller's scope from their bearer token; Unauthorized (BadToken) without a valid one, or when its account
    was disabled, its password changed or its sign-in ended."""
    if not token:
        raise Unauthorized("sign in first: Authorization: Bearer <token>")
    claims = await guard_of(request).admit(request.app.state.pool, token)
    request.state.scope = claims.scope
    return claims.scope


def require(*roles: Role) -> Callable[..., Awaitable[Scope]]:
    """A dependency that admits only `roles` (Forbidden naming the role otherwise)."""
    allowed = frozenset(roles)

    async def check(scope: Annotated[Scope, Depends(current_user)]) -> Scope:
        if scope.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"a {scope.role.value} may not do this; it is for: {names}")
        return scope

    return check


def within_area(caller: Scope, code: str | None, field: str) -> None:
    """Forbidden, naming the field, when a unit or grid code lies outside the caller's area."""
    if code is not None and not code.startswith(caller.area):
        raise Forbidden(f"{field}: {code} is outside your area {caller.area}")


def rate_limit(request: Request, rule: str, what: str, key: str, cost: int = 1) -> None:
    """Count `cost` hits; RateLimited (with `retry_after`) once `rule` is exhausted for `key`, across the host's
    processes."""
    guard_of(request).limiter.hit(rule, what, key, cost=cost)


Caller = Annotated[Scope, Depends(current_user)]
CommandCentre = Annotated[Scope, Depends(require(*COMMAND_CENTRE))]
Admin = Annotated[Scope, Depends(require(Role.ADMIN))]
