"""The command centre's map follows the registry live in Chromium: a grid member taken off a grid, and posted back,
is drawn on the open page without a reload (a registry notice reaches every page, which draws today's grids)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import SignIn
from tests.integration.harness import wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]

MEMBER_ON_MAP = """async (code) => {
    const data = await window.__app.map.getSource('grids').getData();
    const grid = data.features.find((f) => f.properties.code === code);
    return grid ? { member: grid.properties.member_name, page: window.__samePage === true } : null;
}"""


async def test_a_grid_left_vacant_and_posted_again_is_drawn_on_the_open_map(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient
) -> None:
    grids = (await http.get("/api/v1/grids")).json()["features"]
    grid = next(g["properties"] for g in reversed(grids) if g["properties"]["member_name"])
    posted = (await http.get("/api/v1/people", params={"grid": grid["code"], "role": "grid_member"})).json()
    member = next(p for p in posted if p["name"] == grid["member_name"])
    context = await contexts("desk")
    await sign_in(context, "admin")
    page = await open_page(context, "/")
    await page.evaluate("() => { window.__samePage = true; }")
    drawn = await page.evaluate(MEMBER_ON_MAP, grid["code"])
    assert drawn == {"member": grid["member_name"], "page": True}

    async def drawn_as(name: str | None) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await page.evaluate(MEMBER_ON_MAP, grid["code"])
        return found if found == {"member": name, "page": True} else None

    ended = await http.delete(f"/api/v1/people/{member['id']}/posts/{grid['code']}")
    assert ended.status_code == 204, ended.text
    try:
        await wait_for(lambda: drawn_as(None), "the grid drawn vacant on the open page", within=30)
    finally:
        again = await http.post(f"/api/v1/people/{member['id']}/posts", json={"grid_code": grid["code"]})
        assert again.status_code == 201, again.text
    await wait_for(lambda: drawn_as(grid["member_name"]), "the member drawn on the grid again", within=30)
