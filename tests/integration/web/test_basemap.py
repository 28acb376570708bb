"""The base map over HTTP (#14): which base maps a deployment offers, its local PMTiles file served by byte ranges to
signed-in accounts, and a page CSP that admits exactly the configured tile servers. The session's web server has no
base map (the offline default); a second one is configured with both kinds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.basemap_samples import write_pmtiles
from tests.integration.auth import admin_headers, gateway_headers
from tests.integration.conftest import another_web
from tests.integration.harness import LiveStack

pytestmark = pytest.mark.integration

PMTILES = "/api/v1/basemaps/local.pmtiles"
XYZ = "https://t{s}.tiles.example.cn/vec/{z}/{x}/{y}.png?tk={tk}"


@pytest.fixture(scope="module")
def pmtiles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("basemap") / "county.pmtiles"
    write_pmtiles(path)
    return path


@pytest.fixture(scope="module")
def mapped_web(live_stack: LiveStack, pmtiles_file: Path) -> Iterator[str]:
    """A web server with an XYZ tile service (two subdomains, a key) and a local PMTiles file."""
    env = {
        "GRID_BASEMAP_URL": XYZ,
        "GRID_BASEMAP_SUBDOMAINS": "0,1",
        "GRID_TIANDITU_KEY": "test-key",
        "GRID_BASEMAP_NAME": "测试底图",
        "GRID_BASEMAP_ATTRIBUTION": "© test tiles",
        "GRID_BASEMAP_PMTILES": str(pmtiles_file),
    }
    with another_web(live_stack, "basemap-web", env) as web:
        yield web.base_url


def csp_sources(policy: str, directive: str) -> list[str]:
    """The sources of one directive of a CSP."""
    for part in policy.split(";"):
        name, *sources = part.split()
        if name == directive:
            return sources
    raise AssertionError(f"no {directive} in {policy}")


async def test_the_default_offers_no_base_map_and_no_other_origin(live_stack: LiveStack) -> None:
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=admin_headers()) as client:
        assert (await client.get("/api/v1/basemaps")).json() == []
        missing = await client.get(PMTILES, headers={"Range": "bytes=0-99"})
        assert missing.status_code == 404 and "GRID_BASEMAP_PMTILES" in missing.json()["detail"]
        policy = (await client.get("/")).headers["content-security-policy"]
    assert csp_sources(policy, "img-src") == ["'self'", "data:", "blob:"]
    assert csp_sources(policy, "connect-src") == ["'self'"]


async def test_a_configured_deployment_offers_both_and_admits_exactly_its_tile_servers(mapped_web: str) -> None:
    async with httpx.AsyncClient(base_url=mapped_web, headers=admin_headers()) as client:
        offered = (await client.get("/api/v1/basemaps")).json()
        policy = (await client.get("/m/worker")).headers["content-security-policy"]
    assert [(b["id"], b["name"]) for b in offered] == [("xyz", "测试底图"), ("pmtiles", "本地底图")]
    assert offered[0]["layers"] == [
        [
            "https://t0.tiles.example.cn/vec/{z}/{x}/{y}.png?tk=test-key",
            "https://t1.tiles.example.cn/vec/{z}/{x}/{y}.png?tk=test-key",
        ]
    ]
    assert offered[0]["attribution"] == "© test tiles" and offered[1]["layers"] == [[PMTILES]]
    origins = ["https://t0.tiles.example.cn", "https://t1.tiles.example.cn"]
    assert csp_sources(policy, "img-src") == ["'self'", "data:", "blob:", *origins]
    assert csp_sources(policy, "connect-src") == ["'self'", *origins]
    assert csp_sources(policy, "script-src") == ["'self'"]


@pytest.fixture(scope="module")
def pmtiles_bytes(pmtiles_file: Path) -> bytes:
    return pmtiles_file.read_bytes()


async def test_the_pmtiles_file_is_served_by_byte_ranges(mapped_web: str, pmtiles_bytes: bytes) -> None:
    whole = pmtiles_bytes
    async with httpx.AsyncClient(base_url=mapped_web, headers=admin_headers()) as client:
        header = await client.get(PMTILES, headers={"Range": "bytes=0-126"})
        assert header.status_code == 206, header.text
        assert header.content == whole[:127] and header.content.startswith(b"PMTiles\x03")
        assert header.headers["content-range"] == f"bytes 0-126/{len(whole)}"
        assert header.headers["accept-ranges"] == "bytes" and header.headers["etag"]
        assert header.headers["content-type"] == "application/vnd.pmtiles"
        # The client's first read asks for 16 KiB of a smaller file: the bytes there are.
        first = await client.get(PMTILES, headers={"Range": "bytes=0-16383"})
        assert first.status_code == 206 and first.content == whole
        tail = await client.get(PMTILES, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == whole[-10:]
        beyond = await client.get(PMTILES, headers={"Range": f"bytes={len(whole)}-{len(whole) + 99}"})
        assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(whole)}"
        full = await client.get(PMTILES)
        assert full.status_code == 200 and full.content == whole
        # Any signed-in account reads it (one map for the deployment), a gateway too; nobody without a token.
        assert (await client.get(PMTILES, headers={**gateway_headers(), "Range": "bytes=0-6"})).status_code == 206
    async with httpx.AsyncClient(base_url=mapped_web) as anonymous:
        assert (await anonymous.get(PMTILES, headers={"Range": "bytes=0-6"})).status_code == 401
        assert (await anonymous.get("/api/v1/basemaps")).status_code == 401


async def test_a_missing_file_answers_404(live_stack: LiveStack, tmp_path: Path) -> None:
    with another_web(live_stack, "basemap-missing", {"GRID_BASEMAP_PMTILES": str(tmp_path / "gone.pmtiles")}) as web:
        async with httpx.AsyncClient(base_url=web.base_url, headers=admin_headers()) as client:
            answer = await client.get(PMTILES, headers={"Range": "bytes=0-99"})
    assert answer.status_code == 404 and answer.json()["detail"] == "the local base map's file is missing"
