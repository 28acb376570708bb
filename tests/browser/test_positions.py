"""Shared positions in Chromium: a grid worker switches "共享位置" on, the command centre's map shows them (a rendered
feature of the positions layer) live, follows them when they move, and drops them when they switch it off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import SignIn, account_for, grid_point, people, screenshot
from tests.browser.test_command_centre import dispatcher_of_the_township
from tests.integration.harness import wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]

RENDERED = """(id) => window.__app.map
    .queryRenderedFeatures({ layers: ['positions-circle'] })
    .filter((f) => f.properties.person_id === id)
    .map((f) => ({ lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1], ...f.properties }))"""


async def sharing_sent(page: Page) -> None:
    """Wait until the phone shares and the server has taken at least one report."""
    await page.wait_for_function(
        "() => { const bar = document.querySelector('.share-bar');"
        " return !!bar && bar.dataset.sharing === 'on' && Number(bar.dataset.sent) >= 1; }"
    )


async def rendered(page: Page, person_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate(RENDERED, person_id)
    return found


async def test_a_shared_position_shows_on_the_command_centre_live_and_goes_when_sharing_stops(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[20]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    desk = await contexts("desk")
    await sign_in(desk, await dispatcher_of_the_township(http, db))
    centre = await open_page(desk, "/")
    assert await rendered(centre, member["id"]) == []

    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat, "accuracy": 12})
    await sign_in(phone, await account_for(db, member["id"]))
    worker = await open_page(phone, "/m/worker")
    bar = worker.locator(".share-bar")
    # Off by default.
    assert await bar.get_attribute("data-sharing") == "off"
    assert "共享位置" in (await bar.text_content() or "")
    await bar.locator("label.switch").click()
    await sharing_sent(worker)
    await screenshot(worker, "worker-sharing-position")

    # Live: the centre did not reload, the websocket brought the position (with the name looked up).
    await centre.wait_for_function(f"() => ({RENDERED})('{member['id']}').length === 1", timeout=5_000)
    [shown] = await rendered(centre, member["id"])
    assert abs(shown["lon"] - lon) < 1e-4 and abs(shown["lat"] - lat) < 1e-4
    assert shown["group"] == "field" and shown["stale"] is False
    await centre.wait_for_function(
        "([id, name]) => window.__app.positions().some((p) => p.person_id === id && p.name === name)",
        arg=[member["id"], member["name"]],
    )
    # The popup says who, in which role, and how long ago.
    point = await centre.evaluate("([lon, lat]) => window.__app.map.project([lon, lat])", [lon, lat])
    await centre.locator("#map canvas").click(position={"x": point["x"], "y": point["y"]})
    popup = centre.locator(f".position-popup[data-person-id='{member['id']}']")
    await popup.wait_for(timeout=5_000)
    text = await popup.text_content() or ""
    assert member["name"] in text and "网格员" in text and "刚刚" in text
    assert await centre.get_attribute(".layer-toggle", "data-count") != "0"
    await screenshot(centre, "command-centre-positions")

    # The layer toggle hides and shows the layer.
    await centre.locator(".layer-toggle input[name=layer-positions]").uncheck()
    assert await centre.evaluate("() => window.__app.map.getLayoutProperty('positions-circle', 'visibility')") == "none"
    await centre.locator(".layer-toggle input[name=layer-positions]").check()
    await centre.wait_for_function(f"() => ({RENDERED})('{member['id']}').length === 1", timeout=5_000)

    # Moving more than 50 m sends at once (well within the 30 s between regular reports).
    sent = int(await worker.get_attribute(".share-bar", "data-sent") or 0)
    moved = lon + 0.0012  # about 110 m east
    await phone.set_geolocation({"longitude": moved, "latitude": lat, "accuracy": 10})
    await worker.wait_for_function(
        "(n) => Number(document.querySelector('.share-bar').dataset.sent) > n", arg=sent, timeout=3_000
    )
    await centre.wait_for_function(
        f"(lon) => ({RENDERED})('{member['id']}').some((f) => Math.abs(f.lon - lon) < 1e-4)", arg=moved, timeout=5_000
    )
    # A small move within 30 s of that is held back.
    sent = int(await worker.get_attribute(".share-bar", "data-sent") or 0)
    await phone.set_geolocation({"longitude": moved + 0.0001, "latitude": lat, "accuracy": 10})
    await worker.wait_for_timeout(1_500)
    assert await worker.get_attribute(".share-bar", "data-sent") == str(sent)

    # Switched off: withdrawn, and gone from the map live.
    await bar.locator("label.switch").click()
    await worker.wait_for_selector(".share-bar[data-sharing='off']", state="attached", timeout=5_000)
    await centre.wait_for_function(f"() => ({RENDERED})('{member['id']}').length === 0", timeout=5_000)
    assert await db.fetchval("SELECT count(*) FROM positions WHERE person_id = $1", member["id"]) == 0
    assert await centre.evaluate("(id) => !window.__app.positions().some((p) => p.person_id === id)", member["id"])

    # Remembered: the page opened again starts with sharing off, as it was left.
    again = await open_page(phone, "/m/worker")
    assert await again.get_attribute(".share-bar", "data-sharing") == "off"


async def test_the_sharing_switch_is_remembered_and_the_officer_page_has_it(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    officer = (await people(http, "officer"))[2]
    member = (await people(http, "grid_member"))[21]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    await sign_in(phone, await account_for(db, officer["id"]))
    page = await open_page(phone, "/m/officer")
    await page.locator(".share-bar label.switch").click()
    await sharing_sent(page)

    async def shared() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM positions WHERE person_id = $1", officer["id"]))

    assert await wait_for(shared, "the officer's position")
    # The page opened again resumes sharing by itself.
    await page.close()
    again = await open_page(phone, "/m/officer")
    await sharing_sent(again)
    # The command centre tells officers from grid workers.
    desk = await contexts("desk")
    await sign_in(desk, await dispatcher_of_the_township(http, db))
    centre = await open_page(desk, "/")
    await centre.wait_for_function(f"() => ({RENDERED})('{officer['id']}').length === 1", timeout=5_000)
    [shown] = await rendered(centre, officer["id"])
    assert shown["group"] == "enforcement"
    # Signing out withdraws the position.
    await again.click("button.sign-out")
    await again.wait_for_selector("form.signin")
    await centre.wait_for_function(f"() => ({RENDERED})('{officer['id']}').length === 0", timeout=5_000)
    assert not await shared()
