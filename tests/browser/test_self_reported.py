"""A grid worker reports in their own grid on /m/worker and the case closes through the pages of the people it
names: under the county's default (reporter_report) the worker works it from the phone and the dispatcher checks
and closes it in the command centre; under a township's duty_post policy the village duty post does the 核查 and
the handling on its own phone page. A worker hands an accepted case back from the phone, and the dispatcher
reassigns and transfers it in later states from the command centre."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Locator, Page

from tests.browser.conftest import TOWNSHIP, SignIn, account_for, grid_point, people, screenshot
from tests.browser.test_command_centre import command, event_body, report_case
from tests.browser.test_field_apps import open_panel
from tests.integration.auth import as_person
from tests.integration.harness import wait_for
from tests.media_samples import png

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]


async def report_from_the_phone(page: Page, lon: float, lat: float, text: str) -> str:
    """The worker reports an incident with a photo at (lon, lat); returns the event id."""
    await page.evaluate("([lon, lat]) => window.__app.setPosition(lon, lat)", [lon, lat])
    await page.select_option("select[name=category_major]", "01")
    await page.select_option("select[name=category]", "0102")
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


async def expand(form: Locator) -> None:
    """Open a collapsed action form of the case view (the view keeps an opened one open across redraws)."""
    if await form.locator("details").get_attribute("open") is None:
        await form.locator("summary").click()


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


async def test_the_worker_hands_back_an_accepted_case_and_the_dispatcher_reassigns_and_transfers_it_later_on(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    members = await people(http, "grid_member")
    member, neighbour = members[32], members[33]
    grid, other_grid = member["posts"][0]["grid_code"], neighbour["posts"][0]["grid_code"]
    lon, lat = await grid_point(http, grid)
    text = f"井盖缺失-{uuid.uuid4().hex[:6]}"
    case_id = await report_case(http, db, event_body("incident", member["id"], lon, lat, text, category="road"))
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    await sign_in(phone, await account_for(db, member["id"]))
    page = await open_page(phone, "/m/worker")
    await page.click(".nav-item[data-view=grid]")
    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='dispatched']")
    await card.wait_for(timeout=10_000)
    await card.locator("button.accept").click()
    await wait_for(lambda: state_is(db, case_id, "verified"), "the own report to count as verification")
    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='verified']")
    await open_panel(card)
    await card.locator(".form-return input[name=reason]").fill("井盖属供水公司，需转办")
    await card.locator(".form-return button[type=submit]").click()
    await wait_for(lambda: state_is(db, case_id, "returned"), "the case to be handed back")

    desk = await contexts("desk")
    await sign_in(desk, await account_for(db, (await people(http, "dispatcher"))[0]["id"]))
    centre = await open_page(desk, "/")
    await centre.evaluate("(id) => window.__app.openCase(id)", str(case_id))
    drawer = centre.locator(f".drawer[data-case-id='{case_id}']")
    returned = drawer.locator(".timeline li[data-kind='returned']")
    assert "井盖属供水公司" in (await returned.text_content() or "")
    await expand(drawer.locator("form[data-action=assign]"))
    await drawer.locator("select[name=assignee]").select_option(member["id"])
    await drawer.locator("form[data-action=assign] input[name=reason]").fill("先由本网格处置")
    await drawer.locator("form[data-action=assign] button[type=submit]").click()
    await wait_for(lambda: state_is(db, case_id, "dispatched"), "the case to be dispatched again")
    me = await as_person(db, member["id"])
    await command(http, me, case_id, {"kind": "accept"})
    await command(http, me, case_id, {"kind": "start", "note": ""})

    transfer = drawer.locator("form[data-action=transfer]")
    await expand(transfer)
    await transfer.locator("select[name=grid_code]").select_option(other_grid)
    await transfer.locator("input[name=reason]").fill("位于邻格，移交")
    await transfer.locator("button[type=submit]").click()
    await wait_for(
        lambda: db.fetchval("SELECT grid_code = $2 FROM cases WHERE id = $1", case_id, other_grid),
        "the case to be transferred",
    )
    row = await db.fetchrow("SELECT state, grid_code, assignee_id FROM cases WHERE id = $1", case_id)
    assert row is not None and dict(row.items()) == {
        "state": "in_progress",
        "grid_code": other_grid,
        "assignee_id": neighbour["id"],
    }
    await centre.wait_for_selector(f".drawer[data-case-id='{case_id}'] .timeline li[data-kind='transferred']")

    team = f"enf-{TOWNSHIP}"
    await expand(drawer.locator("form[data-action=assign]"))
    await drawer.locator("select[name=assignee]").select_option(team)
    await drawer.locator("form[data-action=assign] input[name=reason]").fill("改派执法队")
    await drawer.locator("form[data-action=assign] button[type=submit]").click()
    await wait_for(
        lambda: db.fetchval("SELECT state = 'dispatched' AND assignee_id = $2 FROM cases WHERE id = $1", case_id, team),
        "the case in progress to be reassigned to the team",
    )
    await screenshot(centre, "dispatcher-transfer-reassign")
