"""Export rows as a person reads them, CSV records and download names (no I/O)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from uuid import uuid4

from core.case_views import CaseView
from core.cases import Assignee
from core.vocabulary import CaseState, PartyKind, Severity, Step
from dispatch.documents.rows import (
    CASE_HEADERS,
    attachment,
    case_row,
    csv_line,
    metric_headers,
    metric_row,
    text_cell,
)

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)


def view(**overrides: object) -> CaseView:
    """A dispatched case of the grid's member, due tomorrow."""
    fields: dict[str, object] = {
        "id": uuid4(),
        "version": 2,
        "state": CaseState.DISPATCHED,
        "category": "0199",
        "priority": Severity.HIGH,
        "event_type": "incident",
        "description": "村口垃圾堆放未清运",
        "grid_code": "510822100201001",
        "grid_name": "第一网格",
        "township_code": "510822100",
        "township_name": "乔庄镇",
        "assignee": Assignee(kind=PartyKind.GRID_MEMBER, id="gm-1", name="王伟"),
        "lon": 105.2,
        "lat": 32.5,
        "opened_at": NOW - timedelta(hours=2),
        "due_at": NOW + timedelta(days=1),
        "updated_at": NOW,
        "event_count": 1,
        "step": Step.ACCEPT,
        "step_due_at": NOW - timedelta(minutes=1),
    }
    fields.update(overrides)
    return CaseView.model_validate(fields)


def test_a_case_row_speaks_chinese_in_beijing_time() -> None:
    case = view()
    row = dict(zip(CASE_HEADERS, case_row(case, NOW), strict=True))
    assert row["案件编号"] == str(case.id)
    assert (row["大类"], row["小类"], row["小类编码"]) == ("市容环境", "其他市容环境问题", "0199")
    assert (row["状态"], row["当前环节"], row["紧急程度"]) == ("已转办", "待接收", "紧急")
    assert (row["网格"], row["责任方"], row["责任方类型"]) == ("第一网格", "王伟", "网格员")
    assert row["上报时间"] == "2026-11-21 10:00"  # 02:00 UTC is 10:00 in Beijing
    assert row["办结时限"] == "2026-11-22 12:00"
    assert row["是否超期"] == "是"
    assert row["办结时间"] == ""


def test_a_closed_case_is_not_overdue_and_a_case_without_assignee_has_blank_party() -> None:
    row = case_row(view(closed_at=NOW, state=CaseState.CLOSED, assignee=None), NOW)
    named = dict(zip(CASE_HEADERS, row, strict=True))
    assert (named["是否超期"], named["状态"], named["责任方"], named["办结时间"]) == (
        "否",
        "已办结",
        "",
        "2026-11-21 12:00",
    )


def test_text_that_would_run_as_a_formula_stays_text() -> None:
    assert text_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert text_cell("-1+2") == "'-1+2"
    assert text_cell("垃圾") == "垃圾"
    assert case_row(view(description="@SUM(A1)"), NOW)[CASE_HEADERS.index("问题描述")] == "'@SUM(A1)"


def test_csv_lines_read_back_as_the_cells() -> None:
    cells = ["含,逗号", 'a "quote"', "two\nlines", None, 3]
    back = next(csv.reader(io.StringIO(csv_line(cells), newline="")))
    assert back == ["含,逗号", 'a "quote"', "two\nlines", "", "3"]


def test_metric_rows_carry_counts_rates_as_percent_and_medians() -> None:
    row = {
        "key": "510822100",
        "received": 10,
        "cancelled": 1,
        "closed": 6,
        "on_time": 5,
        "checked": 7,
        "reworked": 1,
        "extended": 2,
        "open": 3,
        "overdue": 1,
        "closure_rate": 0.6667,
        "on_time_rate": 0.8333,
        "rework_rate": 0.1429,
        "extension_rate": None,
        "median_minutes": {"accept": 12.5},
    }
    headers = metric_headers("township")
    named = dict(zip(headers, metric_row(row), strict=True))
    assert headers[0] == "乡镇"
    assert (named["受理数"], named["办结数"], named["超期数"]) == (10, 6, 1)
    assert (named["结案率"], named["延期率"]) == (66.67, None)
    assert named["待接收用时中位数（分钟）"] == 12.5
    assert named["处置用时中位数（分钟）"] is None


def test_a_chinese_file_name_travels_as_rfc_5987_with_an_ascii_fallback() -> None:
    header = attachment("案件清单-20261121.csv")
    assert header.startswith('attachment; filename="____-20261121.csv"; ')
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "案件清单-20261121.csv"
    assert header.isascii()
