"""A grid's popup in the command centre says what a county's grid file carries: its kind, households and population."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from playwright.async_api import BrowserContext, Page
from shapely.geometry import box, shape

from tests.browser.conftest import SignIn, screenshot

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]
KINDS = {
    "urban": "城镇网格",
    "rural": "农村网格",
    "special": "专属网格",
    "residential": "社区网格",
    "commercial": "商业网格",
}


async def test_a_grids_popup_shows_its_kind_households_and_population(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient
) -> None:
    grid = (await http.get("/api/v1/grids")).json()["features"][-1]  # the county's last grid: no test posts there
    area = shape(grid["geometry"])
    minx, miny, maxx, maxy = area.bounds
    spot = area.intersection(box(minx, miny, (minx + maxx) / 2, maxy)).representative_point()
    context = await contexts("desk")
    await sign_in(context, "admin")
    page = await open_page(context, "/")
    code = grid["properties"]["code"]
    await page.evaluate("([lon, lat]) => window.__app.map.jumpTo({ center: [lon, lat], zoom: 15 })", [spot.x, spot.y])
    await page.wait_for_function(
        """([lon, lat, code]) => {
            const map = window.__app.map;
            const hits = map.queryRenderedFeatures(map.project([lon, lat]), { layers: ['grids-fill'] });
            return !map.isMoving() && hits.some((f) => f.properties.code === code);
        }""",
        arg=[spot.x, spot.y, code],
        timeout=15_000,
    )
    pixel = await page.evaluate(
        """([lon, lat]) => {
            const p = window.__app.map.project([lon, lat]);
            const r = window.__app.map.getCanvas().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        [spot.x, spot.y],
    )
    await page.mouse.click(pixel[0], pixel[1])
    popup = page.locator(".popup", has_text=code)
    await popup.wait_for(timeout=5_000)
    text = await popup.text_content() or ""
    p = grid["properties"]
    shown = {"网格类型": KINDS[p["kind"]], "户数": str(p["households"]), "人口": str(p["population"])}
    assert all(label + value in text for label, value in shown.items()), text
    await screenshot(page, "grid-popup")
