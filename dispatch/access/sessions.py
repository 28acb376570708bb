"""Whether the account behind an access token still holds it: enabled, at the token's session epoch, and the
token's sign-in not signed out.

Each process asks the database (one indexed statement per account) at most once per GRID_SESSION_CHECK_SECONDS
and shares the answer between the requests of that account, so a disabled account, a changed password or a
sign-out is honoured by every process of every host within that many seconds, at the cost of one statement per
active account per interval. Concurrent requests of one account wait for the same statement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from dispatch.access.tokens import AccessClaims, BadToken
from dispatch.access.users import LIVE

ACCOUNT_STATE = (
    f"SELECT session_epoch, {LIVE} AS enabled, ARRAY(SELECT DISTINCT family::text FROM refresh_tokens r"
    " WHERE r.username = u.username AND r.revoked_at > now() - $2::interval) AS revoked"
    " FROM users u WHERE username = $1"
)
"""The account's epoch and state (enabled, and its person still serving), and the sign-ins revoked recently enough
for their access tokens to live."""
MOST_HELD = 10_000
"""Accounts remembered per process before the stale ones are forgotten."""


@dataclass(frozen=True)
class AccountState:
    """What the database says of an account now."""

    epoch: int
    enabled: bool
    revoked: frozenset[str]


def refusal(state: AccountState | None, claims: AccessClaims) -> str | None:
    """Why the account no longer honours this token; None when it does."""
    if state is None:
        return "no such account"
    if not state.enabled:
        return "the account is disabled"
    if claims.epoch != state.epoch:
        return "the session ended (password changed or account disabled); sign in again"
    if claims.sid is not None and claims.sid in state.revoked:
        return "signed out; sign in again"
    return None


class AccountCheck:
    """Checks tokens against their accounts, remembering each account's state for `ttl` seconds."""

    def __init__(self, ttl: float, token_lifetime: timedelta, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._window = token_lifetime
        self._clock = clock
        self._known: dict[str, tuple[float, AccountState | None]] = {}
        self._pending: dict[str, asyncio.Future[AccountState | None]] = {}

    async def admit(self, pool: asyncpg.Pool, claims: AccessClaims) -> None:
        """BadToken naming the reason when the token's account no longer honours it."""
        reason = refusal(await self.state(pool, claims.scope.username), claims)
        if reason is not None:
            raise BadToken(f"access token refused: {reason}")

    async def state(self, pool: asyncpg.Pool, username: str) -> AccountState | None:
        """The account's state, at most `ttl` seconds old."""
        held = self._known.get(username)
        if held is not None and self._clock() - held[0] < self.ttl:
            return held[1]
        pending = self._pending.get(username)
        if pending is None:
            pending = asyncio.ensure_future(self._load(pool, username))
            self._pending[username] = pending
            pending.add_done_callback(lambda done: self._settled(username, done))
        return await asyncio.shield(pending)

    def forget(self, username: str) -> None:
        """Drop what this process knows of an account (it changed here), so the next request asks again."""
        self._known.pop(username, None)

    def _settled(self, username: str, done: asyncio.Future[AccountState | None]) -> None:
        """Let the next request ask again; a failure every waiter gave up on is not reported as unretrieved."""
        self._pending.pop(username, None)
        if not done.cancelled():
            done.exception()

    async def _load(self, pool: asyncpg.Pool, username: str) -> AccountState | None:
        asked = self._clock()
        row = await pool.fetchrow(ACCOUNT_STATE, username, self._window)
        state = None if row is None else AccountState(row["session_epoch"], row["enabled"], frozenset(row["revoked"]))
        if len(self._known) >= MOST_HELD:
            self._known = {k: v for k, v in self._known.items() if asked - v[0] < self.ttl}
        self._known[username] = (asked, state)
        return state
