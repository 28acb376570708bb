"""A grid worker reports in their own grid on /m/worker and the case closes through the pages of the people it
names: under the county's default (reporter_report) the worker works it from the phone and the dispatcher checks
and closes it in the command centre; under a township's duty_post policy the village duty post does the 核查 and
the handling on its own phone page."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import TOWNSHIP, SignIn, account_for, grid_point, people, screenshot
from tests.browser.test_command_centre import event_body
from tests.browser.test_field_apps import open_panel
from tests.integration.harness import wait_for
from tests.media_samples import png

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]


async def report_from_the_phone(page: Page, lon: float, lat: float, text: str) -> str:
    """The worker reports an incident with a photo at (lon, lat); returns the event id."""
    await page.evaluate("([lon, lat]) => window.__app.setPosition(lon, lat)", [lon, lat])
    await page.select_option("select[name=category]", "environment")
    await page.fill("textarea[name=description]", text)
    await page.set_input_files(
        "input[name=photos]", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png(5, 5, text)}]
    )
    await page.click("button.submit")
    event_id: str = await wait_for(lambda: page.evaluate("() => window.__app.lastEventId()"), "the report to go")
    return event_id


async def case_of(db: asyncpg.Pool, event_id: str) -> uuid.UUID:
    """The case an event opened, once it exists."""
    found: uuid.UUID = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(event_id)),
        "the report's case",
    )
    return found


async def state_is(db: asyncpg.Pool, case_id: uuid.UUID, state: str) -> bool:
    """Whether the case is in `state` now."""
    return bool(await db.fetchval("SELECT state = $2 FROM cases WHERE id = $1", case_id, state))


async def handle_on_the_phone(page: Page, db: asyncpg.Pool, case_id: uuid.UUID, verify: bool) -> None:
    """The assignee's phone: accept, verify (unless the report counted), start, submit the result with a photo."""
    await page.click(".nav-item[data-view=grid]")
    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='dispatched']")
    await card.wait_for(timeout=10_000)
    await card.locator("button.accept").click()
    if verify:
        await wait_for(lambda: state_is(db, case_id, "accepted"), "the case to be accepted")
        card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='accepted']")
        await open_panel(card)
        await card.locator(".form-verify input[name=finding]").fill("值班员现场核实：垃圾堆放属实")
        await card.locator(".form-verify button[type=submit]").click()
    await wait_for(lambda: state_is(db, case_id, "verified"), "the case to be verified")
    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='verified']")
    await open_panel(card)
    await card.locator("button.start").click()
    await wait_for(lambda: state_is(db, case_id, "in_progress"), "handling to start")
    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='in_progress']")
    await open_panel(card)
    submit = card.locator(".form-submit")
    await submit.locator("input[name=summary]").fill("已清运完毕")
    await submit.locator("input[name=evidence]").set_input_files(
        files=[{"name": "结果.png", "mimeType": "image/png", "buffer": png(6, 6, f"result-{case_id}")}]
    )
    await submit.locator(".evidence-list [data-sha256]").wait_for(timeout=5_000)
    await submit.locator("button[type=submit]").click()
    await wait_for(lambda: state_is(db, case_id, "submitted"), "the result to be submitted")


async def check_and_close_in_the_centre(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool, case_id: Any
) -> Page:
    """The township's dispatcher passes the check and closes the case (办结销号) in the command centre."""
    desk = await contexts("desk")
    await sign_in(desk, await account_for(db, (await people(http, "dispatcher"))[0]["id"]))
    centre = await open_page(desk, "/")
    await centre.evaluate("(id) => window.__app.openCase(id)", str(case_id))
    drawer = centre.locator(f".drawer[data-case-id='{case_id}']")
    await drawer.locator("form[data-action=check] summary").click()
    await drawer.locator("form[data-action=check] button.primary").click()
    await wait_for(lambda: state_is(db, case_id, "checked"), "the check to pass")
    await drawer.locator("form[data-action=close] summary").click()
    await drawer.locator("form[data-action=close] button[type=submit]").click()
    await wait_for(lambda: state_is(db, case_id, "closed"), "the case to be closed")
    await centre.wait_for_selector(f".drawer[data-case-id='{case_id}'] .timeline li[data-kind='closed']")
    return centre


async def test_a_worker_reports_in_their_own_grid_and_the_case_closes_with_the_report_as_verification(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[30]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    await sign_in(phone, await account_for(db, member["id"]))
    page = await open_page(phone, "/m/worker")
    case_id = await case_of(db, await report_from_the_phone(page, lon, lat, f"垃圾堆放-{uuid.uuid4().hex[:6]}"))
    assert await db.fetchval("SELECT assignee_id FROM cases WHERE id = $1", case_id) == member["id"]

    await handle_on_the_phone(page, db, case_id, verify=False)
    await screenshot(page, "self-report-worker-submitted")
    centre = await check_and_close_in_the_centre(contexts, open_page, sign_in, http, db, case_id)
    verified = centre.locator(f".drawer[data-case-id='{case_id}'] .timeline li[data-kind='verified']")
    assert "system:self-report" in (await verified.locator(".tl-actor").text_content() or "")
    assert "上报即视为快速核查" in (await verified.locator(".tl-text").text_content() or "")
    await screenshot(centre, "self-report-closed")
    report_photo = await db.fetchval(
        "SELECT payload->'source'->'media'->0->>'sha256' FROM case_log WHERE case_id = $1 AND kind = 'registered'",
        case_id,
    )
    evidence = await db.fetchval(
        "SELECT payload->'evidence'->0->>'sha256' FROM case_log WHERE case_id = $1 AND kind = 'verified'", case_id
    )
    assert report_photo is not None and evidence == report_photo


async def test_under_duty_post_the_village_duty_post_verifies_and_handles_and_the_case_closes(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[31]
    grid = member["posts"][0]["grid_code"]
    duty = f"duty-{grid[:12]}"
    lon, lat = await grid_point(http, grid)
    assert (await http.put(f"/api/v1/self-report-policies/{TOWNSHIP}", json={"policy": "duty_post"})).status_code == 200
    try:

        async def to_duty_post() -> bool:
            probe = event_body("incident", member["id"], lon, lat, "探测", category="environment")
            assert (await http.post("/api/v1/events", json=probe)).status_code == 202
            case_id = await case_of(db, probe["event_id"])
            return bool(await db.fetchval("SELECT assignee_id = $2 FROM cases WHERE id = $1", case_id, duty))

        await wait_for(to_duty_post, "the processors to follow the township's duty_post policy", within=20)
        phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
        await sign_in(phone, await account_for(db, member["id"]))
        page = await open_page(phone, "/m/worker")
        case_id = await case_of(db, await report_from_the_phone(page, lon, lat, f"垃圾堆放-{uuid.uuid4().hex[:6]}"))
        assert await db.fetchval("SELECT assignee_id FROM cases WHERE id = $1", case_id) == duty

        duty_phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
        await sign_in(duty_phone, await account_for(db, duty))
        duty_page = await open_page(duty_phone, "/m/worker")
        await handle_on_the_phone(duty_page, db, case_id, verify=True)
        await check_and_close_in_the_centre(contexts, open_page, sign_in, http, db, case_id)
    finally:
        assert (await http.delete(f"/api/v1/self-report-policies/{TOWNSHIP}")).status_code == 204
    actors = await db.fetch("SELECT kind, actor_id FROM case_log WHERE case_id = $1 ORDER BY seq", case_id)
    assert {r["kind"]: r["actor_id"] for r in actors}["verified"] == duty
