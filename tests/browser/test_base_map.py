"""The base map in Chromium (#14): a web server configured with an XYZ tile service (a small tile server on another
origin, run here: solid cyan PNG tiles) and a local PMTiles file (made here: solid magenta PNG tiles over the demo
county). The command centre draws the tile service under the grids (the first on offer) with no CSP violation, and,
switched to the local file, reads it by byte ranges with its token and draws it; the layer switch turns it off. Every
page of this module is opened on that server."""

from __future__ import annotations

import io
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page, Response

from tests.basemap_samples import MAGENTA, solid_png, write_pmtiles
from tests.browser.conftest import SignIn, screenshot
from tests.integration.conftest import another_web
from tests.integration.harness import LiveStack, wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]

PMTILES = "/api/v1/basemaps/local.pmtiles"
OWN_LAYERS = ("grids", "villages", "townships", "labels", "cases", "unrouted")
CYAN = (0, 255, 255)


@pytest.fixture(scope="module")
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """An XYZ tile service on an origin of its own (another port): cyan tiles, CORS open as public services are; the
    paths it was asked for."""
    asked: list[str] = []
    tile = solid_png(CYAN)

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site(
    live_stack: LiveStack, tmp_path_factory: pytest.TempPathFactory, tile_server: tuple[str, list[str]]
) -> Iterator[str]:
    """This module's web server: the session's database, with the tile service and a local PMTiles base map."""
    path: Path = tmp_path_factory.mktemp("basemap") / "county.pmtiles"
    write_pmtiles(path)
    env = {
        "GRID_BASEMAP_URL": tile_server[0] + "/{z}/{x}/{y}.png",
        "GRID_BASEMAP_NAME": "测试瓦片",
        "GRID_BASEMAP_ATTRIBUTION": "© test tiles",
        "GRID_BASEMAP_PMTILES": str(path),
    }
    with another_web(live_stack, "basemap-browser", env) as web:
        yield web.base_url


async def colour_share(page: Page, rgb: tuple[int, int, int] = MAGENTA) -> float:
    """The share of the map's pixels that are a base map's colour (within what blending leaves of it)."""
    shot = await page.locator("#map canvas").screenshot()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    red, green, blue = rgb
    data = image.tobytes()
    near = (
        abs(data[i] - red) < 40 and abs(data[i + 1] - green) < 40 and abs(data[i + 2] - blue) < 40
        for i in range(0, len(data), 3)
    )
    return sum(near) / (len(data) // 3)


async def drawn(page: Page) -> bool | None:
    """Whether the base map's first source has loaded and has tiles to draw."""
    return (
        await page.evaluate(
            """() => {
                const map = window.__app.map;
                return Boolean(map.getSource('basemap-0')) && map.isSourceLoaded('basemap-0')
                    && map.style.tileManagers['basemap-0'].getRenderableIds().length > 0;
            }"""
        )
        or None
    )


async def test_the_tile_service_is_drawn_from_its_own_origin_under_the_policy(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, tile_server: tuple[str, list[str]]
) -> None:
    origin, asked = tile_server
    context = await contexts("desk")
    await sign_in(context, "admin")
    page = await open_page(context, "/")  # fails on any CSP violation
    await wait_for(lambda: drawn(page), "the tile service's tiles loaded and renderable", within=30)
    assert await page.get_attribute(".layer-switch", "data-basemap") == "xyz"
    assert asked and all(path.endswith(".png") for path in asked), asked
    assert "© test tiles" in await page.locator(".maplibregl-ctrl-attrib").inner_text()
    policy = await page.evaluate("async () => (await fetch('/')).headers.get('content-security-policy')")
    assert f"img-src 'self' data: blob: {origin};" in policy and f"connect-src 'self' {origin};" in policy

    async def cyan() -> float | None:
        share = await colour_share(page, CYAN)
        return share if share > 0.3 else None

    await wait_for(cyan, "the cyan tiles on the canvas", within=15)


async def test_the_local_pmtiles_base_map_is_drawn_under_the_grids(
    contexts: Contexts, open_page: Opener, sign_in: SignIn
) -> None:
    context = await contexts("desk")
    ranges: list[tuple[int, str]] = []

    def record(response: Response) -> None:
        if response.url.endswith(PMTILES):
            ranges.append((response.status, response.request.headers.get("range", "")))

    context.on("response", record)
    await sign_in(context, "admin")
    page = await open_page(context, "/")

    await page.locator(".layer-switch input[name=layer-basemap][value=pmtiles]").check()
    await wait_for(lambda: drawn(page), "the PMTiles base map's tiles loaded and renderable", within=30)
    assert await page.get_attribute(".layer-switch", "data-basemap") == "pmtiles"
    assert await page.locator(".layer-switch input[name=layer-basemap][value=pmtiles]").is_checked()
    # Read by byte ranges with the token: the header first, then the tiles.
    assert ranges and all(status == 206 for status, _ in ranges), ranges
    assert ranges[0][1].startswith("bytes=0-"), ranges

    # Under the grids' light fill the map is still mostly magenta; with the project's own layers switched off,
    # the tiles are all there is.
    async def under_the_grids() -> float | None:
        share = await colour_share(page)
        return share if share > 0.3 else None

    await wait_for(under_the_grids, "the magenta tiles under the grids", within=15)
    for key in OWN_LAYERS:
        await page.locator(f".layer-switch input[name=layer-{key}]").uncheck()

    async def all_magenta() -> float | None:
        share = await colour_share(page)
        return share if share > 0.9 else None

    await wait_for(all_magenta, "the base map alone on the map", within=15)
    await screenshot(page, "base-map-pmtiles")

    # Switched to no base map: the plain background, and remembered when the page opens again.
    await page.locator(".layer-switch input[name=layer-basemap][value=none]").check()

    async def plain() -> float | None:
        share = await colour_share(page)
        return share + 1 if share < 0.01 else None

    await wait_for(plain, "the base map gone", within=15)
    again = await open_page(context, "/")
    assert await again.get_attribute(".layer-switch", "data-basemap") == "none"
    assert await again.evaluate("() => window.__app.map.getSource('basemap-0')") is None
