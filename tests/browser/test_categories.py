"""Categories in Chromium: the worker's picker offers 大类 then 小类 by their Chinese names (English on the switch),
the report lands with the chosen 小类 code, and the command centre's 大类 filter finds it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import SignIn, account_for, grid_point, people, screenshot
from tests.browser.test_command_centre import dispatcher_of_the_township
from tests.integration.harness import wait_for
from tests.media_samples import png

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]


async def options(page: Page, name: str) -> dict[str, str]:
    """A select's options as value → shown text."""
    found: dict[str, str] = await page.eval_on_selector(
        f"select[name={name}]", "(s) => Object.fromEntries([...s.options].map((o) => [o.value, o.textContent]))"
    )
    return found


async def test_the_worker_picks_a_major_then_a_minor_in_chinese_and_the_case_carries_its_code(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[31]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    await sign_in(phone, await account_for(db, member["id"]))
    worker = await open_page(phone, "/m/worker")
    await worker.evaluate("([lon, lat]) => window.__app.setPosition(lon, lat)", [lon, lat])

    majors = await options(worker, "category_major")
    wanted = {"01": "市容环境", "02": "宣传广告", "03": "施工管理", "05": "街面秩序", "07": "矛盾纠纷"}
    assert wanted.items() <= majors.items()
    assert "大类" in (await worker.locator(".field-label").all_text_contents())
    await worker.select_option("select[name=category_major]", "05")
    minors = await options(worker, "category")
    assert minors["0504"] == "机动车乱停放" and all(code.startswith("05") for code in minors)
    await worker.select_option("select[name=category]", "0504")

    await worker.click("button.lang-switch")
    assert (await options(worker, "category_major"))["05"] == "Street order"
    assert (await options(worker, "category"))["0504"] == "Illegally parked vehicle"
    assert await worker.input_value("select[name=category]") == "0504", "the switch keeps the choice"
    await worker.click("button.lang-switch")
    assert (await options(worker, "category"))["0504"] == "机动车乱停放"

    text = f"占道停车-{uuid.uuid4().hex[:6]}"
    await worker.fill("textarea[name=description]", text)
    await worker.set_input_files(
        "input[name=photos]", files=[{"name": "停车.png", "mimeType": "image/png", "buffer": png(5, 4, text)}]
    )
    await screenshot(worker, "worker-category-picker")
    async with worker.expect_response(lambda r: r.url.endswith("/api/v1/events") and r.status == 202) as posted:
        await worker.click("button.submit")
    sent = (await posted.value).request.post_data_json
    assert sent["category"] == "0504"
    case_id = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(sent["event_id"])),
        "the report's case",
    )
    assert await db.fetchval("SELECT category FROM cases WHERE id = $1", case_id) == "0504"

    desk = await contexts("desk")
    await sign_in(desk, await dispatcher_of_the_township(http, db))
    centre = await open_page(desk, "/")
    await centre.select_option("select[name=category_major]", "05")
    assert (await options(centre, "category"))["0504"] == "机动车乱停放"
    await centre.select_option("select[name=category]", "0504")
    row = centre.locator(f".case-list [data-case-id='{case_id}']")
    await row.wait_for(timeout=5_000)
    assert "机动车乱停放" in (await row.text_content() or "")
    await centre.select_option("select[name=category_major]", "01")
    await row.wait_for(state="detached", timeout=5_000)
