"""The 督办 board in Chromium: a township sets a one-minute accept SLA through the API, a case reported there runs
past it, and the board lists it on its township's row without a reload; the board speaks English on the switch and
a click opens the case view."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import TOWNSHIP, SignIn, account_for, grid_point, people, screenshot
from tests.browser.test_command_centre import event_body
from tests.integration.harness import wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]
SLA = {"unit_code": TOWNSHIP, "category": "road", "accept_minutes": 1, "verify_minutes": 30, "reason": "看板测试"}


async def _short_clock_case(http: httpx.AsyncClient, db: asyncpg.Pool) -> str:
    """A case in the township that got the one-minute accept SLA (the processors reload on the change's notice)."""
    member = (await people(http, "grid_member"))[0]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])

    async def reported() -> str | None:
        body = event_body("incident", member["id"], lon, lat, "路面塌陷\n请尽快处理", category="road")
        assert (await http.post("/api/v1/events", json=body)).status_code == 202
        row = await wait_for(
            lambda: db.fetchrow(
                "SELECT c.id, c.step_due_at - c.opened_at AS window FROM cases c JOIN case_events e"
                " ON e.case_id = c.id WHERE e.event_id = $1",
                uuid.UUID(body["event_id"]),
            ),
            "the case of the report",
        )
        return str(row["id"]) if row["window"] == timedelta(minutes=1) else None

    return await wait_for(reported, "a case with one minute to accept", within=30)


async def test_the_board_lists_a_case_that_ran_past_its_township_sla(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    created = await http.post("/api/v1/step-slas", json=SLA)
    assert created.status_code == 201, created.text
    try:
        case_id = await _short_clock_case(http, db)
    finally:
        ended = await http.delete(f"/api/v1/step-slas/{created.json()['id']}", params={"reason": "测试结束"})
        assert ended.status_code == 204
    desk = await contexts("desk")
    await sign_in(desk, await account_for(db, (await people(http, "dispatcher"))[0]["id"]))
    page = await open_page(desk, "/")
    await page.click("button.board-toggle")
    board = page.locator(".board-view")
    await board.locator("h2", has_text="督办看板").wait_for()
    await board.locator(f"tr[data-township='{TOWNSHIP}']").wait_for()

    row = board.locator(f"tr.board-case[data-case-id='{case_id}']")
    await row.wait_for(timeout=150_000)  # listed once a minute has passed, without reloading the page
    section = board.locator(f"section.board-township[data-township='{TOWNSHIP}']")
    assert await section.locator(f"tr[data-case-id='{case_id}']").count() == 1
    assert await row.locator("td.title").inner_text() == "路面塌陷 · 一般"
    assert await row.locator("td.code").inner_text() == case_id[:8]
    assert await row.locator("td.step").inner_text() == "待接收"
    assert "分钟" in await row.locator("td.late").inner_text()
    level = await row.get_attribute("data-level")
    assert (await row.locator("td.level").inner_text()) == {"0": "超期未督办", "1": "1级督办"}[level or ""]
    counts = board.locator(f".board-summary tr[data-township='{TOWNSHIP}'] td.count")
    assert int(await counts.nth(4).inner_text()) >= 1  # the total
    await screenshot(page, "supervision-board")

    await page.click("button.lang-switch")
    await board.locator("h2", has_text="Supervision board").wait_for()
    assert "min" in await row.locator("td.late").inner_text()
    await row.click()
    await page.wait_for_selector(f".drawer[data-case-id='{case_id}']")
    assert await board.is_hidden()
