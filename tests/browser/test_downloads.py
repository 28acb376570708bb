"""Downloads from the command centre in Chromium: the case list exports what its filters show (opened with
openpyxl, and as csv), the case link of the papers' QR codes opens the case, whose view prints its 处置单 and 督办单,
and the metrics view exports its table."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
from openpyxl import load_workbook
from playwright.async_api import BrowserContext, Download, Page
from pypdf import PdfReader

from tests.browser.conftest import SignIn, account_for, grid_point, people, screenshot
from tests.browser.test_command_centre import event_body
from tests.integration.harness import wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]


async def saved(page: Page, selector: str, folder: Path) -> tuple[str, bytes]:
    """Click a download button; the file's suggested name and bytes once the download arrived."""
    async with page.expect_download() as arriving:
        await page.click(selector)
    download: Download = await arriving.value
    path = folder / download.suggested_filename
    await download.save_as(path)
    return download.suggested_filename, path.read_bytes()


async def reported_case(http: httpx.AsyncClient, db: asyncpg.Pool, text: str) -> str:
    """A case reported by the test township's first grid member, with `text` in its description."""
    member = (await people(http, "grid_member"))[0]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    body = event_body("incident", member["id"], lon, lat, text, category="environment")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the case of the report",
    )
    return str(case_id)


async def dispatcher_page(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> Page:
    desk = await contexts("desk")
    await sign_in(desk, await account_for(db, (await people(http, "dispatcher"))[0]["id"]))
    return await open_page(desk, "/")


async def test_the_case_list_exports_what_its_filters_show(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool, tmp_path: Path
) -> None:
    token = f"导出-{uuid.uuid4().hex[:6]}"
    case_id = await reported_case(http, db, f"{token} 垃圾清运")
    centre = await dispatcher_page(contexts, open_page, sign_in, http, db)
    await centre.fill("input[name=q]", token)
    await centre.wait_for_selector(f".case-list [data-case-id='{case_id}']")
    await screenshot(centre, "command-centre-export-buttons")
    name, data = await saved(centre, ".filters button.export-xlsx", tmp_path)
    assert name.startswith("案件清单-") and name.endswith(".xlsx")
    header, *rows = list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert header[:5] == ("案件编号", "大类", "小类", "小类编码", "状态")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(case_id, "市容环境", "其他市容环境问题", "0199")]
    name, data = await saved(centre, ".filters button.export-csv", tmp_path)
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert records[0][0] == "案件编号" and [r[0] for r in records[1:]] == [case_id]


async def test_the_case_view_prints_its_handling_and_supervision_sheets(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool, tmp_path: Path
) -> None:
    case_id = await reported_case(http, db, f"打印-{uuid.uuid4().hex[:6]} 路面破损")
    reply = await http.post(f"/api/v1/cases/{case_id}/commands", json={"kind": "supervise", "reason": "限今日办结"})
    assert reply.status_code == 200, reply.text
    centre = await dispatcher_page(contexts, open_page, sign_in, http, db)
    await centre.evaluate("(id) => { location.hash = `case=${id}`; }", case_id)  # the papers' QR link opens it
    drawer = f".drawer[data-case-id='{case_id}']"
    await centre.wait_for_selector(f"{drawer} .timeline li[data-kind='supervised']")
    assert await centre.locator(f"{drawer} button.paper-decision").count() == 0, "no decision, no 决定书"
    await screenshot(centre, "command-centre-case-papers")
    for selector, title, words in (
        ("button.paper-handling-sheet", "处置单", "案件处置单"),
        ("button.paper-supervision", "督办单", "限今日办结"),
    ):
        name, data = await saved(centre, f"{drawer} {selector}", tmp_path)
        assert name.startswith(title) and name.endswith(".pdf")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        assert words in text and case_id in text


async def test_the_metrics_view_exports_its_table(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool, tmp_path: Path
) -> None:
    centre = await dispatcher_page(contexts, open_page, sign_in, http, db)
    await centre.click("button.metrics-toggle")
    await centre.wait_for_selector(".metrics-view[data-rows]")
    name, data = await saved(centre, ".metrics-view button.export-csv", tmp_path)
    assert name.startswith("案件统计-") and name.endswith(".csv")
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert header[:2] == ["乡镇", "受理数"] and len(rows) == 1
