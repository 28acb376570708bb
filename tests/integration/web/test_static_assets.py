"""The built front end as the running web server serves it: the precompressed copy the client accepts (brotli, gzip,
or the file as it is), with its type, `Vary: Accept-Encoding`, a year's caching for hashed names and revalidation for
pages and the service worker, ETags answered with 304, and no path outside the build."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from tests.integration.harness import ROOT, LiveStack, client_on

pytestmark = pytest.mark.integration

DIST = ROOT / "web" / "static" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest_asyncio.fixture
async def web(live_stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    """A client without a token: the pages and their assets are public."""
    async with client_on(live_stack) as client:
        yield client


def worker_script() -> Path:
    """The worker page's own script, as the build names it in the page."""
    page = (DIST / "m" / "worker" / "index.html").read_text()
    found = re.search(r'src="/static/(assets/worker-[^"]+\.js)"', page)
    assert found, "the worker page names no script"
    return DIST / found.group(1)


async def raw_get(client: httpx.AsyncClient, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """An answer and its body exactly as sent (not decoded)."""
    async with client.stream("GET", path, headers=headers) as reply:
        body = b"".join([chunk async for chunk in reply.aiter_raw()])
    return reply, body


def url_of(path: Path) -> str:
    return "/static/" + path.relative_to(DIST).as_posix()


@pytest.mark.parametrize(
    ("accept", "coding", "suffix"),
    [("gzip, deflate, br", "br", ".br"), ("gzip, deflate", "gzip", ".gz"), ("identity", None, "")],
)
async def test_a_script_comes_in_the_coding_the_client_accepts(
    web: httpx.AsyncClient, accept: str, coding: str | None, suffix: str
) -> None:
    script = worker_script()
    reply, body = await raw_get(web, url_of(script), **{"accept-encoding": accept})
    assert reply.status_code == 200
    assert reply.headers.get("content-encoding") == coding
    assert body == script.with_name(script.name + suffix).read_bytes()
    assert reply.headers["content-length"] == str(len(body))
    assert reply.headers["content-type"] == "text/javascript; charset=utf-8"
    assert reply.headers["vary"] == "Accept-Encoding"
    assert reply.headers["cache-control"] == IMMUTABLE
    if coding == "gzip":
        assert gzip.decompress(body) == script.read_bytes()


async def test_the_shared_map_chunk_crosses_the_network_at_a_fraction_of_its_size(web: httpx.AsyncClient) -> None:
    # The largest chunk: MapLibre and the map code the pages share (rollup names it after one of its modules).
    chunk = max((DIST / "assets").glob("*.js"), key=lambda p: p.stat().st_size)
    for accept in ("br", "gzip"):
        reply, body = await raw_get(web, url_of(chunk), **{"accept-encoding": accept})
        assert reply.headers["content-encoding"] == accept
        assert len(body) < chunk.stat().st_size / 3, accept


async def test_styles_are_css_and_cached_for_a_year(web: httpx.AsyncClient) -> None:
    style = next((DIST / "assets").glob("worker-*.css"))
    reply = await web.get(url_of(style))
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/css; charset=utf-8"
    assert reply.headers["cache-control"] == IMMUTABLE
    assert reply.text == style.read_text()


@pytest.mark.parametrize("path", ["/", "/m/worker", "/m/officer"])
async def test_pages_are_revalidated_on_each_visit(web: httpx.AsyncClient, path: str) -> None:
    reply = await web.get(path, headers={"accept-encoding": "gzip"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["cache-control"] == "no-cache"
    assert "content-security-policy" in reply.headers
    assert '<div id="app">' in reply.text


async def test_the_service_worker_is_served_for_the_phone_pages_and_revalidated(web: httpx.AsyncClient) -> None:
    reply = await web.get("/m/sw.js", headers={"accept-encoding": "gzip"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/javascript; charset=utf-8"
    assert reply.headers["cache-control"] == "no-cache"
    assert reply.headers["content-encoding"] == "gzip" and reply.headers["vary"] == "Accept-Encoding"
    version = re.search(r'^const VERSION = "([0-9a-f]{16})";', reply.text, re.MULTILINE)
    assert version, reply.text[:200]
    assert '"/m/worker"' in reply.text and f'"{url_of(worker_script())}"' in reply.text


async def test_a_copy_the_client_holds_is_answered_304(web: httpx.AsyncClient) -> None:
    path = url_of(worker_script())
    first = await web.get(path, headers={"accept-encoding": "br"})
    etag = first.headers["etag"]
    again = await web.get(path, headers={"accept-encoding": "br", "if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == IMMUTABLE
    assert again.headers["vary"] == "Accept-Encoding"
    other = await web.get(path, headers={"accept-encoding": "gzip", "if-none-match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag  # another coding is another representation
    page = await web.get("/m/worker")
    assert (await web.get("/m/worker", headers={"if-none-match": page.headers["etag"]})).status_code == 304


async def test_head_answers_the_headers_alone(web: httpx.AsyncClient) -> None:
    script = worker_script()
    reply = await web.head(url_of(script), headers={"accept-encoding": "gzip"})
    assert reply.status_code == 200 and reply.content == b""
    assert reply.headers["content-length"] == str(script.with_name(script.name + ".gz").stat().st_size)


@pytest.mark.parametrize(
    "path",
    [
        "/static/assets/missing-12345678.js",
        "/static/%2e%2e/%2e%2e/app.py",
        "/static/assets/%2e%2e%2f%2e%2e%2fapp.py",
        "/static/..%5c..%5capp.py",
        "/static/%2fetc%2fpasswd",
        "/static/assets/",
        f"/static/assets/{worker_script().name}.br",
    ],
)
async def test_what_is_not_a_file_of_the_build_is_not_found(web: httpx.AsyncClient, path: str) -> None:
    reply = await web.get(path)
    assert reply.status_code == 404
    assert b"import" not in reply.content


async def test_a_literal_dot_dot_path_reaches_nothing_outside_the_build(live_stack: LiveStack) -> None:
    """Sent as written on the wire: no client-side normalising of the path."""
    where = urlsplit(live_stack.base_url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    writer.write(b"GET /static/../../app.py HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status = answer.split(b"\r\n", 1)[0]
    assert status.split()[1] == b"404", status
    assert b"create_app" not in answer
