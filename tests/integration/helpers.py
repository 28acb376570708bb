"""Things integration tests share: valid events at real grid points, and a websocket listener."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import websockets
from websockets.typing import Subprotocol

from tests.integration.auth import admin_token


async def grid_point(db: asyncpg.Pool, offset: int = 0, township_statistical: bool = False) -> dict[str, Any]:
    """A point inside a real (demo) grid, with the grid, its member and its township."""
    row = await db.fetchrow(
        "SELECT g.code, g.township_code, ST_X(p) AS lon, ST_Y(p) AS lat, pe.name AS member, pe.id AS member_id"
        " FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
        " JOIN grid_posts gp ON gp.grid_code = g.code JOIN people pe ON pe.id = gp.person_id"
        " ORDER BY g.code OFFSET $1 LIMIT 1",
        offset,
    )
    assert row is not None, "the demo county has no grids"
    return dict(row.items())


def event(kind: str = "incident", lon: float = 105.2, lat: float = 32.6, **fields: Any) -> dict[str, Any]:
    """A valid event body."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "occurred_at": (now - timedelta(minutes=3)).isoformat(),
        "reported_at": now.isoformat(),
        "source": "phone",
        "reporter": {"id": "gm-test", "name": "测试网格员"},
        "location": {"lon": lon, "lat": lat},
        "category": "environment",
        "description": "村口垃圾堆放",
    }
    body.update(fields)
    return body


class LiveListener:
    """A websocket client on /ws/live that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.snapshot: list[dict[str, Any]] | None = None
        self.first_seen: dict[str, float] = {}  # case id -> perf_counter() of its first case_changed

    def receive(self, msg: dict[str, Any]) -> None:
        """Keep a message, noting when a case's first change came."""
        self.messages.append(msg)
        if msg.get("type") == "case_changed":
            self.first_seen.setdefault(str(msg["case"]["id"]), time.perf_counter())

    @property
    def case_changes(self) -> int:
        """How many case_changed messages came."""
        return sum(1 for m in self.messages if m.get("type") == "case_changed")

    def find(self, kind: str, **match: Any) -> dict[str, Any] | None:
        """The first received message of a type whose payload matches."""
        for msg in self.messages:
            if msg["type"] != kind:
                continue
            payload = msg.get("case") or msg.get("item") or {}
            if all(payload.get(k) == v for k, v in match.items()):
                return msg
        return None


@contextlib.asynccontextmanager
async def listening(base_url: str, token: str | None = None) -> AsyncIterator[LiveListener]:
    """Connect to the live channel (as the administrator unless a token is given) and collect messages in the
    background until the block ends."""
    listener = LiveListener()
    protocols = [Subprotocol("grid.live"), Subprotocol(f"bearer.{token or admin_token()}")]
    url = base_url.replace("http", "ws", 1) + "/ws/live"
    async with websockets.connect(url, subprotocols=protocols, max_size=None) as ws:
        first = orjson.loads(await ws.recv())
        assert first["type"] == "snapshot"
        listener.snapshot = first["cases"]

        async def collect() -> None:
            async for raw in ws:
                listener.receive(orjson.loads(raw))

        task = asyncio.create_task(collect())
        try:
            yield listener
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await task
