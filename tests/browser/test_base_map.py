"""The base map in Chromium (#14): a web server configured with a local PMTiles file (made here: solid magenta PNG
tiles over the demo county) serves it by byte ranges to the signed-in command centre, which draws it under the grids;
the layer switch turns it off and on. Every page of this module is opened on that server."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page, Response

from tests.basemap_samples import MAGENTA, write_pmtiles
from tests.browser.conftest import SignIn, screenshot
from tests.integration.conftest import another_web
from tests.integration.harness import LiveStack, wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]

PMTILES = "/api/v1/basemaps/local.pmtiles"
OWN_LAYERS = ("grids", "villages", "townships", "labels", "cases", "unrouted")


@pytest.fixture(scope="module")
def site(live_stack: LiveStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This module's web server: the session's database, with a local PMTiles base map."""
    path: Path = tmp_path_factory.mktemp("basemap") / "county.pmtiles"
    write_pmtiles(path)
    with another_web(live_stack, "basemap-browser", {"GRID_BASEMAP_PMTILES": str(path)}) as web:
        yield web.base_url


async def magenta_share(page: Page) -> float:
    """The share of the map's pixels that are the base map's magenta (within what blending leaves of it)."""
    shot = await page.locator("#map canvas").screenshot()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    red, green, blue = MAGENTA
    data = image.tobytes()
    near = (
        abs(data[i] - red) < 40 and abs(data[i + 1] - green) < 40 and abs(data[i + 2] - blue) < 40
        for i in range(0, len(data), 3)
    )
    return sum(near) / (len(data) // 3)


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

    async def drawn() -> bool | None:
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

    await wait_for(drawn, "the base map's tiles loaded and renderable", within=30)
    assert await page.get_attribute(".layer-switch", "data-basemap") == "pmtiles"
    assert await page.locator(".layer-switch input[name=layer-basemap][value=pmtiles]").is_checked()
    # Read by byte ranges with the token: the header first, then the tiles.
    assert ranges and all(status == 206 for status, _ in ranges), ranges
    assert ranges[0][1].startswith("bytes=0-"), ranges
    # Under the grids' light fill the map is still mostly magenta; with the project's own layers switched off,
    # the tiles are all there is.
    assert await magenta_share(page) > 0.3
    for key in OWN_LAYERS:
        await page.locator(f".layer-switch input[name=layer-{key}]").uncheck()

    async def all_magenta() -> float | None:
        share = await magenta_share(page)
        return share if share > 0.9 else None

    await wait_for(all_magenta, "the base map alone on the map", within=15)
    await screenshot(page, "base-map-pmtiles")

    # Switched to no base map: the plain background, and remembered when the page opens again.
    await page.locator(".layer-switch input[name=layer-basemap][value=none]").check()

    async def plain() -> float | None:
        share = await magenta_share(page)
        return share + 1 if share < 0.01 else None

    await wait_for(plain, "the base map gone", within=15)
    again = await open_page(context, "/")
    assert await again.get_attribute(".layer-switch", "data-basemap") == "none"
    assert await again.evaluate("() => window.__app.map.getSource('basemap-0')") is None
