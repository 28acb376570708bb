"""The security headers middleware: each path gets its set, and a header the route set itself is kept."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from web.security_headers import API_HEADERS, DOCS_HEADERS, PAGE_HEADERS, SecurityHeaders, headers_for


def answered(path: str, own: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The response headers of a route that sets `own`, behind the middleware."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": own})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    asyncio.run(SecurityHeaders(route)({"type": "http", "path": path}, receive, send))
    return {name.decode(): value.decode() for name, value in sent[0]["headers"]}


def test_each_path_gets_its_set() -> None:
    assert headers_for("/") == headers_for("/m/worker") == headers_for("/static/assets/a.js") == PAGE_HEADERS
    assert headers_for("/api/v1/events") == headers_for("/healthz") == headers_for("/openapi.json") == API_HEADERS
    assert headers_for("/docs") == DOCS_HEADERS
    assert answered("/m/officer", []) == PAGE_HEADERS


def test_a_header_the_route_set_is_kept() -> None:
    own = [(b"Cache-Control", b"private, max-age=60"), (b"content-security-policy", b"sandbox")]
    got = answered("/api/v1/media/" + "a" * 64, own)
    assert got["Cache-Control"] == "private, max-age=60" and got["content-security-policy"] == "sandbox"
    assert "cache-control" not in got and got["x-content-type-options"] == "nosniff"
