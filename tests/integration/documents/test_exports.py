"""Exports and papers on the running product: the case list and the metrics download as xlsx and csv with Chinese
headers and only the caller's township; each paper is a PDF with Chinese text, the case code and the QR code of the
case link, and a case out of reach answers as one that does not exist."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import asyncpg
import httpx
import pytest
import pytest_asyncio
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from dispatch.documents.qr import BORDER, SCALE, qr_matrix
from tests.integration.auth import as_person
from tests.integration.conftest import another_web
from tests.integration.harness import LiveStack, client_on, wait_for
from tests.integration.security.test_headers_and_public import Decisions, upload
from tests.integration.security.townships import Township, command, report, two_townships
from tests.media_samples import PDF, png

pytestmark = pytest.mark.integration

MARK = "导出测试" + uuid.uuid4().hex[:6]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Papers:
    """Township A's cases: two reported with the marker (one supervised), one decided; B's case; and the people."""

    a: Township
    b: Township
    marked: tuple[str, str]
    supervised: str
    decided: str
    b_case: str


@pytest_asyncio.fixture(scope="module")
async def papers(http: httpx.AsyncClient, db: asyncpg.Pool) -> Papers:
    a, b = await two_townships(db)
    first = await report(http, db, a, description=f"{MARK} 村口垃圾堆放")
    second = await report(http, db, a, description=f"={MARK} 路灯损坏")
    b_case = await report(http, db, b, description=f"{MARK} 乙镇案件")
    await command(http, a.dispatcher_headers, first, kind="supervise", reason="请速办理，今日反馈")

    async def recorded() -> bool | None:
        return await db.fetchval("SELECT true FROM supervisions WHERE case_id = $1", uuid.UUID(first))

    await wait_for(recorded, "the supervision record")
    desk = Decisions(http, db, {"township_code": a.code, "lon": a.lon, "lat": a.lat})
    officer = await as_person(db, desk.pair[0])
    photo = await upload(http, png(note="papers"), "image/png", officer)
    doc = await upload(http, PDF, "application/pdf", officer)
    party = {"party_kind": "person", "party_name": "李四", "party_id_number": "510822199002023456"}
    decided = await desk.take(party, photo, doc)
    return Papers(a, b, (first, second), first, decided, b_case)


def workbook_rows(reply: httpx.Response) -> list[list[Any]]:
    """The rows of the first sheet of a downloaded workbook, as Excel would open it."""
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(reply.content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(reply: httpx.Response) -> list[list[str]]:
    """The records of a downloaded CSV, which must start with the UTF-8 BOM."""
    assert reply.status_code == 200, reply.text
    assert reply.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"), newline="")))


def filename(reply: httpx.Response) -> str:
    """The download's name as a browser reads it (RFC 5987 filename*)."""
    disposition = reply.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    return unquote(disposition.split("filename*=UTF-8''", 1)[1])


async def test_the_case_export_opens_in_excel_with_chinese_headers_and_the_filtered_rows(
    http: httpx.AsyncClient, papers: Papers
) -> None:
    reply = await http.get(
        "/api/v1/cases/export", params={"format": "xlsx", "q": MARK}, headers=papers.a.dispatcher_headers
    )
    header, *rows = workbook_rows(reply)
    assert header[:9] == ["案件编号", "大类", "小类", "小类编码", "状态", "当前环节", "紧急程度", "来源", "问题描述"]
    assert {"网格", "责任方", "上报时间", "办结时限"} <= set(header)
    named = [dict(zip(header, row, strict=True)) for row in rows]
    assert sorted(r["案件编号"] for r in named) == sorted(papers.marked)
    assert {(r["大类"], r["小类"], r["小类编码"]) for r in named} == {("市容环境", "其他市容环境问题", "0199")}
    assert f"'={MARK} 路灯损坏" in {r["问题描述"] for r in named}, "a formula-looking description stays text"
    assert filename(reply).startswith("案件清单-") and filename(reply).endswith(".xlsx")


async def test_the_csv_export_carries_a_bom_and_the_same_rows(http: httpx.AsyncClient, papers: Papers) -> None:
    reply = await http.get(
        "/api/v1/cases/export", params={"format": "csv", "q": MARK}, headers=papers.a.dispatcher_headers
    )
    header, *rows = csv_rows(reply)
    assert header[0] == "案件编号" and "责任方" in header
    assert sorted(r[0] for r in rows) == sorted(papers.marked)
    assert reply.headers["content-type"].startswith("text/csv")
    assert filename(reply).endswith(".csv")


async def test_exports_hold_only_the_callers_township(http: httpx.AsyncClient, papers: Papers) -> None:
    for who, mine, theirs in (
        (papers.a.dispatcher_headers, set(papers.marked), papers.b_case),
        (papers.b.dispatcher_headers, {papers.b_case}, papers.marked[0]),
    ):
        for fmt in ("csv", "xlsx"):
            reply = await http.get("/api/v1/cases/export", params={"format": fmt}, headers=who)
            rows = csv_rows(reply)[1:] if fmt == "csv" else workbook_rows(reply)[1:]
            ids = {str(r[0]) for r in rows}
            assert mine <= ids and theirs not in ids, fmt
        filtered = await http.get(
            "/api/v1/cases/export", params={"format": "csv", "township": papers.b.code}, headers=who
        )
        assert theirs not in filtered.text


async def test_a_bad_format_or_period_is_refused_naming_the_field(http: httpx.AsyncClient, papers: Papers) -> None:
    for path in ("/api/v1/cases/export", "/api/v1/metrics/export"):
        reply = await http.get(path, params={"format": "pdf"}, headers=papers.a.dispatcher_headers)
        assert reply.status_code == 422
        assert reply.json()["detail"][0]["loc"] == ["query", "format"]
    period = {"format": "csv", "from": "2026-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}
    backwards = await http.get("/api/v1/metrics/export", params=period, headers=papers.a.dispatcher_headers)
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"] == ["query", "from"]


async def test_an_export_past_its_bound_ends_saying_so(live_stack: LiveStack, papers: Papers) -> None:
    with another_web(live_stack, "web-export-bound", {"GRID_EXPORT_MAX_ROWS": "1"}) as small:
        async with client_on(small, papers.a.dispatcher_headers) as client:
            reply = await client.get("/api/v1/cases/export", params={"format": "csv", "q": MARK})
    _, *rows = csv_rows(reply)
    assert len(rows) == 2 and rows[0][0] in papers.marked
    assert rows[1][0] == "仅导出前 1 条，请缩小筛选范围后再导出"


async def test_the_metrics_export_has_the_counts_of_the_callers_groups(http: httpx.AsyncClient, papers: Papers) -> None:
    reply = await http.get(
        "/api/v1/metrics/export", params={"format": "xlsx", "by": "township"}, headers=papers.a.dispatcher_headers
    )
    header, *rows = workbook_rows(reply)
    assert header[:4] == ["乡镇", "受理数", "撤销数", "办结数"] and "结案率" in header and "超期数" in header
    assert [r[0] for r in rows] == [papers.a.code]
    assert rows[0][1] >= 3
    csv_header, *csv_body = csv_rows(
        await http.get(
            "/api/v1/metrics/export", params={"format": "csv", "by": "grid"}, headers=papers.a.dispatcher_headers
        )
    )
    assert csv_header[0] == "网格" and papers.a.grid in {r[0] for r in csv_body}
    assert all(r[0].startswith(papers.a.code) for r in csv_body)
    by_major = await http.get(
        "/api/v1/metrics/export", params={"format": "xlsx", "by": "major_category"}, headers=papers.a.dispatcher_headers
    )
    major_header, *major_rows = workbook_rows(by_major)
    assert major_header[0] == "大类" and "01 市容环境" in {r[0] for r in major_rows}
    assert sum(r[1] for r in major_rows) == rows[0][1], "every received case counts in one 大类"


def pdf_text(reply: httpx.Response) -> str:
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/pdf" and filename(reply).endswith(".pdf")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(reply.content)).pages)


def qr_of(reply: httpx.Response) -> list[list[bool]]:
    """The QR code printed on the first page, read module by module."""
    image = Image.open(io.BytesIO(PdfReader(io.BytesIO(reply.content)).pages[0].images[0].data)).convert("L")
    n, at = image.size[0] // SCALE - 2 * BORDER, SCALE // 2
    return [
        [image.getpixel(((c + BORDER) * SCALE + at, (r + BORDER) * SCALE + at)) < 128 for c in range(n)]
        for r in range(n)
    ]


async def logged(db: asyncpg.Pool, case_id: str, person_id: str) -> list[str]:
    """The fields of the last read of a case's personal data by a person's account."""
    fields = await db.fetchval(
        "SELECT a.fields FROM access_log a JOIN users u ON u.username = a.username"
        " WHERE a.what = 'case' AND a.subject = $1 AND u.person_id = $2 ORDER BY a.id DESC LIMIT 1",
        case_id,
        person_id,
    )
    return list(fields or [])


async def test_the_handling_sheet_prints_the_case_in_chinese_with_its_qr_code(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, papers: Papers
) -> None:
    case = papers.marked[0]
    reply = await http.get(f"/api/v1/cases/{case}/documents/handling-sheet.pdf", headers=papers.a.dispatcher_headers)
    text = pdf_text(reply)
    reporter = await db.fetchval("SELECT name FROM people WHERE id = $1", papers.a.member)
    for words in (
        "案件处置单",
        case,
        "市容环境／其他市容环境问题（0199）",
        "村口垃圾堆放",
        "受理登记",
        f"{reporter}（{papers.a.member}）",
    ):
        assert words in text, words
    assert qr_of(reply) == qr_matrix(f"{live_stack.base_url}/#case={case}")
    assert await logged(db, case, f"disp-{papers.a.code}") == ["reporter.name"]


async def test_the_supervision_sheet_of_a_supervised_case(http: httpx.AsyncClient, papers: Papers) -> None:
    path = "/api/v1/cases/{}/documents/supervision.pdf"
    text = pdf_text(await http.get(path.format(papers.supervised), headers=papers.a.dispatcher_headers))
    for words in ("督 办 单", papers.supervised, "请速办理，今日反馈", "督办级别", "被督办人"):
        assert words in text, words
    never = await http.get(path.format(papers.marked[1]), headers=papers.a.dispatcher_headers)
    assert never.status_code == 404


async def test_the_decision_document_of_a_decided_enforcement_case(
    http: httpx.AsyncClient, db: asyncpg.Pool, papers: Papers
) -> None:
    path = "/api/v1/cases/{}/documents/decision.pdf"
    text = pdf_text(await http.get(path.format(papers.decided), headers=papers.a.dispatcher_headers))
    for words in ("行政处罚决定书", papers.decided, "李四", "510822199002023456", "城乡规划法", "罚款", "行政复议"):
        assert words in text, words
    assert await logged(db, papers.decided, f"disp-{papers.a.code}") == [
        "decision.party_name",
        "decision.party_id_number",
    ]
    undecided = await http.get(path.format(papers.marked[0]), headers=papers.a.dispatcher_headers)
    assert undecided.status_code == 404


async def test_a_paper_of_a_case_out_of_reach_reads_as_a_missing_case(http: httpx.AsyncClient, papers: Papers) -> None:
    missing = str(uuid.uuid4())
    for paper in ("handling-sheet", "supervision", "decision"):
        path = f"/api/v1/cases/{{}}/documents/{paper}.pdf"
        foreign = await http.get(path.format(papers.supervised), headers=papers.b.dispatcher_headers)
        absent = await http.get(path.format(missing), headers=papers.b.dispatcher_headers)
        assert foreign.status_code == absent.status_code == 404, paper
        assert foreign.json()["detail"].replace(papers.supervised, "<id>") == absent.json()["detail"].replace(
            missing, "<id>"
        )
