"""Place names on the maps in Chromium (#14): township names from the county's view on, village names once zoomed
in, at each unit's label point, drawn with the browser's own fonts; no glyph or font is fetched from anywhere."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import SignIn, screenshot
from tests.integration.harness import wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]

RENDERED_NAMES = """(layer) => [...new Set(window.__app.map.queryRenderedFeatures({ layers: [layer] })
    .map((f) => f.properties.name))]"""


async def idle(page: Page) -> None:
    """Wait until the map has drawn everything it was asked to."""
    await page.evaluate(
        "() => new Promise((done) => { window.__app.map.once('idle', done); window.__app.map.triggerRepaint(); })"
    )


async def test_township_names_from_the_county_view_and_village_names_zoomed_in(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, site: str
) -> None:
    villages = (await http.get("/api/v1/units", params={"level": "village"})).json()["features"]
    townships = {f["properties"]["label"] for f in (await http.get("/api/v1/units")).json()["features"]}
    context = await contexts("desk")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    await sign_in(context, "admin")  # the whole county
    page = await open_page(context, "/")

    # The county's view (fitted to the grids): township names, no village names yet.
    async def townships_named() -> list[str] | None:
        return await page.evaluate(RENDERED_NAMES, "township-labels") or None

    shown = await wait_for(townships_named, "township names on the map", within=20)
    assert set(shown) <= townships and len(shown) >= 3, shown
    assert await page.evaluate(RENDERED_NAMES, "village-labels") == []

    # Zoomed in on a village's label point: its name is written there.
    village = villages[len(villages) // 2]["properties"]
    await page.evaluate(
        "([lon, lat]) => window.__app.map.jumpTo({ center: [lon, lat], zoom: 14 })", village["label_point"]
    )

    async def village_named() -> list[str] | None:
        await idle(page)
        names = await page.evaluate(RENDERED_NAMES, "village-labels")
        return names if village["label"] in names else None

    await wait_for(village_named, f"{village['label']} written on the map", within=20)
    assert village["name"].startswith(village["label"].removesuffix("村"))  # 南丰村 for 南丰村村民委员会
    await screenshot(page, "place-names")
    # Everything the page fetched came from its own server: no glyphs, fonts or tiles from elsewhere.
    assert all(url.startswith(site) or url.startswith(("data:", "blob:")) for url in requests), requests
    assert not [url for url in requests if url.endswith(".pbf")]


async def test_the_label_switch_hides_the_names(contexts: Contexts, open_page: Opener, sign_in: SignIn) -> None:
    context = await contexts("desk")
    await sign_in(context, "admin")
    page = await open_page(context, "/")
    await page.locator(".layer-switch input[name=layer-labels]").uncheck()
    await idle(page)
    visibility = await page.evaluate(
        "() => ['township-labels', 'village-labels'].map((id) => window.__app.map.getLayoutProperty(id, 'visibility'))"
    )
    assert visibility == ["none", "none"]
    assert await page.evaluate(RENDERED_NAMES, "township-labels") == []
    # Remembered: the page opened again keeps them hidden, and they come back when switched on.
    again = await open_page(context, "/")
    assert not await again.locator(".layer-switch input[name=layer-labels]").is_checked()
    await again.locator(".layer-switch input[name=layer-labels]").check()

    async def named() -> list[str] | None:
        return await again.evaluate(RENDERED_NAMES, "township-labels") or None

    await wait_for(named, "township names again", within=20)
