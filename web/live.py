"""The websocket `/ws/live`: a snapshot of the user's open cases, then every change they may see.

The browser cannot set headers on a websocket, so the access token travels as a subprotocol:
`new WebSocket(url, ["grid.live", "bearer." + token])`. The server closes with 4401 when the token is
missing or bad, when it expires (so the client refreshes it and reconnects, catching up), and within
GRID_SESSION_CHECK_SECONDS of its account being disabled, its password changed or its sign-in ended; with 4429,
before the snapshot, when the account holds GRID_WS_PER_ACCOUNT live connections on this process already (the
client retries with its growing backoff, and gets in once another window closes);
with 1013 (try again later) when the database is restarting (web/errors.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from dispatch.access.http_auth import Guard
from dispatch.access.scope import FIELD_ROLES, MY_GRIDS, Scope
from dispatch.access.tokens import AccessClaims, BadToken
from dispatch.cases.queries import CaseFilter, list_cases
from web.hub import LiveClient, LiveHub, Overflow, TooManyConnections

router = APIRouter()
PROTOCOL = "grid.live"
BEARER_PREFIX = "bearer."
UNAUTHORIZED = 4401
TOO_MANY = 4429


def _offered(ws: WebSocket) -> list[str]:
    return [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",")]


def _token(offered: list[str]) -> str | None:
    return next((p[len(BEARER_PREFIX) :] for p in offered if p.startswith(BEARER_PREFIX)), None)


async def _with_grids(pool: asyncpg.Pool, scope: Scope) -> Scope:
    """A field worker's scope with their grids, which the live filter needs in memory."""
    if scope.role not in FIELD_ROLES:
        return scope
    rows = await pool.fetch(MY_GRIDS.format(p="$1"), scope.me)
    return replace(scope, grids=frozenset(r["grid_code"] for r in rows))


@router.websocket("/ws/live")
async def live(ws: WebSocket) -> None:
    """Subscribe first, then read and send the snapshot, then forward changes until the client leaves, the token
    expires or its session ends."""
    hub: LiveHub = ws.app.state.hub
    guard: Guard = ws.app.state.guard
    offered = _offered(ws)
    token = _token(offered)
    # Accepted before the check so that the client sees the close code, not a bare handshake failure.
    await ws.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    try:
        if token is None:
            raise BadToken("sign in first: offer the subprotocol bearer.<access token>")
        claims = await guard.admit(ws.app.state.pool, token)
    except BadToken as exc:
        await ws.close(code=UNAUTHORIZED, reason=str(exc)[:120])
        return
    scope = await _with_grids(ws.app.state.pool, claims.scope)
    try:
        client = hub.subscribe(scope)
    except TooManyConnections:
        limit = ws.app.state.settings.ws_per_account
        await ws.close(code=TOO_MANY, reason=f"too many live connections for this account ({limit}); close one")
        return
    watcher = asyncio.create_task(_wait_for_close(ws))
    ended = asyncio.create_task(_session_end(ws, claims))
    try:
        await _send_snapshot(ws, client, scope)
        while not watcher.done():
            pending = asyncio.ensure_future(client.batch())
            done, _ = await asyncio.wait({pending, watcher, ended}, return_when=asyncio.FIRST_COMPLETED)
            if pending not in done:
                pending.cancel()
                break
            for text in pending.result():  # meanwhile the next batch gathers, and coalesces
                await ws.send_text(text)
        if ended.done():
            await ws.close(code=UNAUTHORIZED, reason=ended.result()[:120])
    except Overflow:
        hub.dropped += 1
        await ws.close(code=1013, reason="client too slow; reconnect for a fresh snapshot")
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(client)
        for task in (ended, watcher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await task


async def _send_snapshot(ws: WebSocket, client: LiveClient, scope: Scope) -> None:
    """The user's open cases, remembered as shown."""
    settings = ws.app.state.settings
    cases = await list_cases(ws.app.state.pool, CaseFilter(open_only=True, limit=settings.snapshot_limit), scope)
    client.known.update(c.id for c in cases)
    await ws.send_text(orjson.dumps({"type": "snapshot", "cases": [c.model_dump(mode="json") for c in cases]}).decode())


async def _session_end(ws: WebSocket, claims: AccessClaims) -> str:
    """Why the connection must close, once it must: the token expired, or its account no longer honours it
    (checked every GRID_SESSION_CHECK_SECONDS)."""
    guard: Guard = ws.app.state.guard
    while True:
        left = (claims.expires - datetime.now(UTC)).total_seconds()
        if left <= 0:
            return "access token expired; refresh and reconnect"
        await asyncio.sleep(min(left, guard.accounts.ttl))
        try:
            await guard.accounts.admit(ws.app.state.pool, claims)
        except BadToken as exc:
            return str(exc)


async def _wait_for_close(ws: WebSocket) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
