"""The websocket `/ws/live`: a snapshot of the user's open cases, then every change they may see.

The browser cannot set headers on a websocket, so the access token travels as a subprotocol:
`new WebSocket(url, ["grid.live", "bearer." + token])`. The server closes with 4401 when the token is
missing or bad, and again when it expires, so the client refreshes it and reconnects (catching up); with 1013
(try again later) when the database is restarting (web/errors.py).
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
from dispatch.access.tokens import BadToken
from dispatch.cases.queries import CaseFilter, list_cases
from web.hub import LiveHub, Overflow

router = APIRouter()
PROTOCOL = "grid.live"
BEARER_PREFIX = "bearer."
UNAUTHORIZED = 4401


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
    """Subscribe first, then read and send the snapshot, then forward changes until the client leaves."""
    hub: LiveHub = ws.app.state.hub
    guard: Guard = ws.app.state.guard
    offered = _offered(ws)
    token = _token(offered)
    # Accepted before the check so that the client sees the close code, not a bare handshake failure.
    await ws.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    try:
        if token is None:
            raise BadToken("sign in first: offer the subprotocol bearer.<access token>")
        scope, expires = guard.tokens.read(token)
    except BadToken as exc:
        await ws.close(code=UNAUTHORIZED, reason=str(exc)[:120])
        return
    scope = await _with_grids(ws.app.state.pool, scope)
    client = hub.subscribe(scope)
    watcher = asyncio.create_task(_wait_for_close(ws))
    expiry = asyncio.get_running_loop().call_later(
        max(0.0, (expires - datetime.now(UTC)).total_seconds()), watcher.cancel
    )
    try:
        cases = await list_cases(
            ws.app.state.pool, CaseFilter(open_only=True, limit=ws.app.state.settings.snapshot_limit), scope
        )
        client.known.update(c.id for c in cases)
        await ws.send_text(
            orjson.dumps({"type": "snapshot", "cases": [c.model_dump(mode="json") for c in cases]}).decode()
        )
        while not watcher.done():
            pending = asyncio.ensure_future(client.batch())
            done, _ = await asyncio.wait({pending, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if pending not in done:
                pending.cancel()
                break
            for text in pending.result():  # meanwhile the next batch gathers, and coalesces
                await ws.send_text(text)
        if watcher.cancelled():
            await ws.close(code=UNAUTHORIZED, reason="access token expired; refresh and reconnect")
    except Overflow:
        hub.dropped += 1
        await ws.close(code=1013, reason="client too slow; reconnect for a fresh snapshot")
    except WebSocketDisconnect:
        pass
    finally:
        expiry.cancel()
        hub.unsubscribe(client)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await watcher


async def _wait_for_close(ws: WebSocket) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
