"""The rows of the exports, as a person reads them: Chinese headers, Chinese words for codes, local times (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from core.case_views import CaseView
from core.categories import CategoryTable
from dispatch.clock import LOCAL_TZ
from dispatch.documents.labels import (
    DIMENSIONS,
    EVENT_TYPES,
    PARTY_KINDS,
    PRIORITIES,
    STATES,
    STEPS,
    category_names,
    label,
)

Cell = str | int | float | None

CASE_HEADERS = (
    "案件编号",
    "大类",
    "小类",
    "小类编码",
    "状态",
    "当前环节",
    "紧急程度",
    "来源",
    "问题描述",
    "乡镇",
    "网格",
    "网格编码",
    "责任方",
    "责任方类型",
    "上报时间",
    "环节时限",
    "办结时限",
    "办结时间",
    "是否超期",
    "关联事件数",
)
COUNTS = (
    ("received", "受理数"),
    ("cancelled", "撤销数"),
    ("closed", "办结数"),
    ("on_time", "按期办结数"),
    ("checked", "验收数"),
    ("reworked", "返工数"),
    ("extended", "延期数"),
    ("open", "在办数"),
    ("overdue", "超期数"),
)
RATES = (
    ("closure_rate", "结案率"),
    ("on_time_rate", "按期结案率"),
    ("rework_rate", "返工率"),
    ("extension_rate", "延期率"),
)
TIMED = ("accept", "verify", "handle", "check", "close")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def local_time(moment: datetime | None) -> str:
    """A moment as the township reads it: Beijing time, to the minute."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def text_cell(value: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula (a reporter's description may start with '=')."""
    return "'" + value if value.startswith(FORMULA_START) else value


def case_row(case: CaseView, now: datetime, categories: CategoryTable | None = None) -> list[Cell]:
    """One case as an export row, in CASE_HEADERS' order (category names from `categories`, else the shipped table)."""
    a = case.assignee
    overdue = case.closed_at is None and case.step_due_at is not None and case.step_due_at < now
    return [
        str(case.id),
        *category_names(case.category, categories),
        case.category,
        label(STATES, case.state),
        label(STEPS, case.step),
        label(PRIORITIES, case.priority),
        label(EVENT_TYPES, case.event_type),
        text_cell(case.description),
        text_cell(case.township_name or ""),
        text_cell(case.grid_name or ""),
        case.grid_code or "",
        text_cell(a.name or a.id) if a else "",
        label(PARTY_KINDS, a.kind) if a else "",
        local_time(case.opened_at),
        local_time(case.step_due_at),
        local_time(case.due_at),
        local_time(case.closed_at),
        "是" if overdue else "否",
        case.event_count,
    ]


def metric_headers(by: str) -> list[str]:
    """The metrics export's headers for a grouping."""
    steps = [f"{label(STEPS, s)}用时中位数（分钟）" for s in TIMED]
    return [label(DIMENSIONS, by), *(h for _, h in COUNTS), *(h for _, h in RATES), *steps]


def metric_row(row: Mapping[str, Any]) -> list[Cell]:
    """One group's metrics as an export row, in metric_headers' order: counts, rates as percentages, medians."""
    rates = [None if row.get(k) is None else round(float(row[k]) * 100, 2) for k, _ in RATES]
    medians = row.get("median_minutes") or {}
    group = f"{row['key']} {row['name']}" if row.get("name") else str(row["key"])
    return [group, *(int(row.get(k) or 0) for k, _ in COUNTS), *rates, *(medians.get(s) for s in TIMED)]


def csv_line(cells: Sequence[Cell]) -> str:
    """One CSV record (RFC 4180: quoted when needed, CRLF)."""
    return ",".join(_csv_field(c) for c in cells) + "\r\n"


def _csv_field(cell: Cell) -> str:
    text = "" if cell is None else str(cell)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def attachment(filename: str) -> str:
    """A Content-Disposition for a download: an ASCII fallback name and the real one as RFC 5987 filename*."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
