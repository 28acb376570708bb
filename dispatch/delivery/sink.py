"""The local sink: stands in for the SMS gateway and the group robots in `make run` and the tests. It keeps every
call it receives (in memory), marks a repeat of an idempotency key it already took, shows them on a Chinese page,
and fails the next N calls, or answers slowly, on demand.

    python -m dispatch.delivery.sink        # 127.0.0.1:GRID_SINK_PORT (8025)
"""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from dispatch.delivery.settings import DeliverySettings

Key = Annotated[str | None, Header(alias="Idempotency-Key")]


class Faults(BaseModel):
    """Fail the next `count` calls (with HTTP `status`); answer every call after `delay_seconds`."""

    count: int = Field(default=0, ge=0, le=1000)
    status: int = Field(default=503, ge=400, le=599)
    delay_seconds: float = Field(default=0.0, ge=0, le=60)


class Sink:
    """What the sink has received, and the faults it is asked to give."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.faults = Faults()
        self.keys: set[str] = set()

    async def take(self, channel: str, target: str, key: str | None, body: Any) -> JSONResponse | None:
        """Record a call; a refusal to answer with while faults are asked for, else None."""
        if self.faults.delay_seconds:
            await asyncio.sleep(self.faults.delay_seconds)
        call = {"seq": len(self.received) + 1, "channel": channel, "target": target, "key": key, "body": body}
        call["at"] = datetime.now(UTC).isoformat()
        if self.faults.count > 0:
            self.faults = self.faults.model_copy(update={"count": self.faults.count - 1})
            self.received.append({**call, "accepted": False, "repeat": False})
            return JSONResponse({"code": "Busy", "message": "sink failing on demand"}, self.faults.status)
        repeat = key is not None and key in self.keys
        if key is not None:
            self.keys.add(key)
        self.received.append({**call, "accepted": True, "repeat": repeat})
        return None


def create_app() -> FastAPI:
    """The sink's app."""
    app = FastAPI(title="投递接收器 Delivery sink")
    sink = Sink()
    app.state.sink = sink

    @app.post("/sms")
    async def sms(request: Request, idempotency_key: Key = None) -> Any:
        """An SMS gateway's send endpoint."""
        body = await request.json()
        refused = await sink.take("sms", str(body.get("phone", "")), idempotency_key or body.get("out_id"), body)
        return refused or {"code": "OK", "message": "OK", "biz_id": idempotency_key}

    @app.post("/webhook/{name}")
    async def webhook(name: str, request: Request, idempotency_key: Key = None) -> Any:
        """A group robot's webhook (企业微信 / 钉钉 text message)."""
        refused = await sink.take("webhook", name, idempotency_key, await request.json())
        return refused or {"errcode": 0, "errmsg": "ok"}

    @app.get("/api/messages")
    async def messages(channel: str | None = None) -> list[dict[str, Any]]:
        """Every call received, oldest first (optionally one channel's)."""
        return [m for m in sink.received if channel is None or m["channel"] == channel]

    @app.put("/api/faults")
    async def set_faults(faults: Faults) -> Faults:
        """Fail the next calls, or slow every answer."""
        sink.faults = faults
        return faults

    @app.delete("/api/messages", status_code=204)
    async def clear() -> None:
        """Forget what was received (and the faults)."""
        sink.received.clear()
        sink.keys.clear()
        sink.faults = Faults()

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        """The calls received, newest first, as a page that refreshes itself."""
        return _page(sink.received)

    return app


def _page(received: list[dict[str, Any]]) -> str:
    rows = "".join(
        "<tr><td>{seq}</td><td>{at}</td><td>{channel}</td><td>{target}</td><td>{state}</td><td>{text}</td></tr>".format(
            seq=m["seq"],
            at=html.escape(m["at"][11:19]),
            channel="短信" if m["channel"] == "sms" else "群机器人",
            target=html.escape(m["target"]),
            state=_state(m),
            text=html.escape(_text(m["body"])),
        )
        for m in reversed(received)
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">'
        "<title>投递接收器</title></head><body><h1>投递接收器（本地模拟短信网关与群机器人）</h1>"
        f'<p>共收到 {len(received)} 次调用。</p><table border="1" cellpadding="4">'
        "<tr><th>序号</th><th>时间(UTC)</th><th>渠道</th><th>接收方</th><th>状态</th><th>内容</th></tr>"
        f"{rows}</table></body></html>"
    )


def _state(call: dict[str, Any]) -> str:
    if not call["accepted"]:
        return "模拟失败"
    return "重复（同一幂等键）" if call["repeat"] else "已接收"


def _text(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)
    if "text" in body and isinstance(body["text"], dict):
        return str(body["text"].get("content", ""))
    params = body.get("params") or {}
    return f"【{body.get('sign', '')}】{params.get('text', '')}"


def main() -> None:
    """Serve the sink on 127.0.0.1:GRID_SINK_PORT."""
    uvicorn.run(create_app(), host="127.0.0.1", port=DeliverySettings().sink_port, log_level="warning")


if __name__ == "__main__":
    main()
