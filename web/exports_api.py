"""Downloads: the case list and the metrics as xlsx or csv, and the printed papers of a case as PDF."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from core.inputs import Instant
from dispatch.access import access_log
from dispatch.access.http_auth import Caller, CommandCentre, address
from dispatch.documents import export_store, paper_store, papers
from dispatch.documents.pdf import Paper, render
from dispatch.documents.rows import CASE_HEADERS, Cell, attachment, metric_headers, metric_row
from dispatch.documents.tables import FORMATS, csv_file, detached, file_chunks, xlsx_file
from dispatch.errors import NotFound
from dispatch.registry.categories_store import load_table
from web.cases_api import Dimension, ListFilter, case_metrics

router = APIRouter(prefix="/api/v1", tags=["exports"])
Format = Literal["xlsx", "csv"]
Responses = dict[int | str, dict[str, Any]]
FILE: Responses = {200: {"description": "the file, as an attachment", "content": {m: {} for m in FORMATS.values()}}}
PDF: Responses = {200: {"description": "the PDF, as an attachment", "content": {"application/pdf": {}}}}


@router.get("/cases/export", response_class=Response, responses=FILE)
async def export_cases(
    request: Request,
    caller: Caller,
    f: ListFilter,
    format: Annotated[Format, Query(description="xlsx or csv (UTF-8 with a BOM)")] = "xlsx",
) -> Response:
    """The caller's cases with the list's filters, every one up to the export bound, streamed as xlsx or csv."""
    bound = request.app.state.settings.export_max_rows
    rows = export_store.case_rows(request.app.state.pool, f, caller, bound)
    return await _download(format, "案件清单", CASE_HEADERS, rows)


@router.get("/metrics/export", response_class=Response, responses=FILE)
async def export_metrics(
    request: Request,
    caller: CommandCentre,
    format: Annotated[Format, Query(description="xlsx or csv (UTF-8 with a BOM)")] = "xlsx",
    by: Dimension = "township",
    start: Annotated[Instant | None, Query(alias="from", description="period start (default: 30 days ago)")] = None,
    end: Annotated[Instant | None, Query(alias="to", description="period end, exclusive (default: now)")] = None,
) -> Response:
    """The metrics of the caller's cases per group, with their counts, as xlsx or csv."""
    found = await case_metrics(request, caller, by, start, end)
    return await _download(format, "案件统计", metric_headers(by), _each(metric_row(r) for r in found))


async def _each(rows: Any) -> AsyncIterator[Sequence[Cell]]:
    for row in rows:
        yield row


async def _download(format: Format, title: str, headers: Sequence[str], rows: Any) -> Response:
    """The rows written to disk as they are read, then sent as a download named for what it is and when."""
    name = f"{title}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.{format}"
    disposition = {"Content-Disposition": attachment(name)}
    written = await (csv_file(headers, rows) if format == "csv" else xlsx_file(title, headers, rows))
    handle, size = detached(written)
    sent = {**disposition, "Content-Length": str(size)}
    return StreamingResponse(file_chunks(handle), media_type=FORMATS[format], headers=sent)


def _link(request: Request, case_id: UUID) -> str:
    """The command centre's address of the case, which the papers' QR codes carry."""
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/#case={case_id}"


def _pdf(paper: Paper, name: str) -> Response:
    return Response(render(paper), media_type="application/pdf", headers={"Content-Disposition": attachment(name)})


@router.get("/cases/{case_id}/documents/handling-sheet.pdf", response_class=Response, responses=PDF)
async def handling_sheet(case_id: UUID, request: Request, caller: Caller) -> Response:
    """处置单: the case and every step of its handling; printing reporters' names is logged, as reading the case is."""
    pool = request.app.state.pool
    case = await paper_store.case_in_reach(pool, case_id, caller)
    log = await paper_store.case_log(pool, case_id)
    names = await paper_store.names_of(pool, papers.reporters(log))
    paper = papers.handling_sheet(case, log, names, _link(request, case_id), await load_table(pool))
    personal = sorted({*access_log.personal_fields(log), *(["reporter.name"] if names else [])})
    if personal:
        await access_log.record(pool, caller, address(request), "case", str(case_id), personal)
    return _pdf(paper, f"处置单-{str(case_id)[:8]}.pdf")


@router.get("/cases/{case_id}/documents/supervision.pdf", response_class=Response, responses=PDF)
async def supervision_sheet(
    case_id: UUID,
    request: Request,
    caller: Caller,
    seq: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="the supervision's log entry (default: the latest)")
    ] = None,
) -> Response:
    """督办单 of one supervision of the case (404 when it was never supervised)."""
    pool = request.app.state.pool
    case = await paper_store.case_in_reach(pool, case_id, caller)
    record = await paper_store.supervision(pool, case_id, seq)
    paper = papers.supervision_sheet(case, record, _link(request, case_id), await load_table(pool))
    return _pdf(paper, f"督办单-{str(case_id)[:8]}-{record['seq']}.pdf")


@router.get("/cases/{case_id}/documents/decision.pdf", response_class=Response, responses=PDF)
async def decision_document(case_id: UUID, request: Request, caller: Caller) -> Response:
    """行政处罚决定书 of an enforcement case (404 until its 审查决定 stage recorded a decision); the read of the
    party's name and number is logged."""
    pool = request.app.state.pool
    case = await paper_store.case_in_reach(pool, case_id, caller)
    paper = papers.decision_document(case, _link(request, case_id))
    found = papers.decision_of(case)
    if paper is None or found is None:
        raise NotFound(f"case {case_id} has no decision")
    fields = papers.decision_personal_fields(found[0])
    await access_log.record(pool, caller, address(request), "case", str(case_id), fields)
    return _pdf(paper, f"行政处罚决定书-{str(case_id)[:8]}.pdf")
