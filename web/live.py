"""The websocket `/ws/live`: a snapshot of open cases, then every change."""

from __future__ import annotations

import asyncio
import contextlib

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from dispatch.read_models import CaseFilter, list_cases
from web.hub import LiveHub, Overflow

router = APIRouter()


@router.websocket("/ws/live")
async def live(ws: WebSocket) -> None:
    """Subscribe first, then read and send the snapshot, then forward changes until the client leaves."""
    hub: LiveHub = ws.app.state.hub
    await ws.accept()
    client = hub.subscribe()
    watcher = asyncio.create_task(_wait_for_close(ws))
    try:
        cases = await list_cases(
            ws.app.state.pool, CaseFilter(open_only=True, limit=ws.app.state.settings.snapshot_limit)
        )
        await ws.send_text(
            orjson.dumps({"type": "snapshot", "cases": [c.model_dump(mode="json") for c in cases]}).decode()
        )
        while not watcher.done():
            sender = asyncio.ensure_future(client.next())
            done, _ = await asyncio.wait({sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if sender not in done:
                sender.cancel()
                break
            await ws.send_text(sender.result())
    except Overflow:
        hub.dropped += 1
        await ws.close(code=1013, reason="client too slow; reconnect for a fresh snapshot")
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(client)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await watcher


async def _wait_for_close(ws: WebSocket) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
