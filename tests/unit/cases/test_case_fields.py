"""The cases table's SQL and codecs derived from CaseRecord: a record survives the upsert and the SELECT unchanged."""

from __future__ import annotations

import re
import uuid
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import orjson
import pytest

from core.case_views import AttachedEvent, CaseDetail, CaseView, ExtensionAsked, LegalReview, StageDone
from core.cases import Assignee, OpenCase, StepSla
from core.enforcement import Decision, Evidence
from core.events import EVENT_ADAPTER
from core.vocabulary import CaseState, EnforcementStage, PartyKind, Step
from dispatch.cases.columns import CASE_COLUMNS, STORED, UPSERT_CASE, _by_type, case_args, case_from_row
from dispatch.cases.machine import CaseRecord, apply
from dispatch.routing.decision import decide
from tests.unit.factories import event_body, snapshot

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
KEPT_COLUMNS = {"id", "event_type", "opened_at", "location"}


def opened() -> CaseRecord:
    """A case as the machine opens it: no assignee yet, nothing optional set."""
    times = {"occurred_at": (T0 - timedelta(minutes=5)).isoformat(), "reported_at": T0.isoformat()}
    command = decide(EVENT_ADAPTER.validate_python(event_body(**times)), snapshot(), T0)
    assert isinstance(command, OpenCase)
    return apply(None, command).case


def worked() -> CaseRecord:
    """A case with every field set away from its default, the detail included."""
    case = opened()
    decision = Decision(
        party_kind="person", party_name="王小明", violation="占道经营", legal_basis="条例第三十六条", measures=("fine",)
    )
    photo = Evidence(sha256="a" * 64, kind="photo", caption="现场")
    event = AttachedEvent(source=case.detail.events[0].source, attached_at=T0, event={"note": "重复"})
    detail = CaseDetail(
        sla=StepSla(accept_minutes=30, verify_minutes=120),
        events=(*case.detail.events, event),
        handlers=("off-1", "off-2"),
        stages=(StageDone(stage=EnforcementStage.FILE, officers=("off-1",), evidence=(photo,), by="off-1", at=T0),),
        review=LegalReview(status="pending", decision=decision, requested_by="off-1"),
        extension=ExtensionAsked(until=T0 + timedelta(days=3), reason="等待鉴定", by="off-1"),
    )
    return replace(
        case,
        version=9,
        state=CaseState.IN_PROGRESS,
        assignee=Assignee(kind=PartyKind.ENFORCEMENT, id="enf-1", name="执法队", fallback="no team member"),
        step=Step.HANDLE,
        step_due_at=T0 + timedelta(hours=4),
        closed_at=T0 + timedelta(days=1),
        reporters=("gm-1", "gm-2"),
        rework_count=1,
        extension_count=2,
        reopen_count=3,
        supervision_level=2,
        merged_into=uuid.uuid4(),
        detail=detail,
    )


def _split(sql: str) -> list[str]:
    """Comma-separated SQL expressions, split at the top level only."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(sql):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(sql[start:i].strip())
            start = i + 1
    return [*parts, sql[start:].strip()]


def _insert() -> tuple[list[str], list[str], list[str]]:
    """The upsert's columns, VALUES expressions and overwritten columns."""
    m = re.fullmatch(r"INSERT INTO cases \((.*)\) VALUES \((.*)\) ON CONFLICT \(id\) DO UPDATE SET (.*)", UPSERT_CASE)
    assert m, UPSERT_CASE
    updated = [u.split("=")[0] for u in _split(m[3])]
    return _split(m[1]), _split(m[2]), updated


def fake_row(args: tuple[object, ...]) -> dict[str, Any]:
    """What PostgreSQL would store from the upsert's parameters and give back to SELECT CASE_COLUMNS."""
    columns, values, _ = _insert()
    param = {f"${n}": a for n, a in enumerate(args, start=1)}
    jsonb = {"detail"}  # encoded and decoded with orjson, as dispatch/db.py registers the codec
    table: dict[str, Any] = {}
    for column, value in zip(columns, values, strict=True):
        point = re.fullmatch(r"ST_SetSRID\(ST_MakePoint\((\$\d+),(\$\d+)\),4326\)", value)
        stored = (param[point[1]], param[point[2]]) if point else param[value]
        table[column] = orjson.loads(orjson.dumps(stored)) if column in jsonb else stored
    row: dict[str, Any] = {}
    for expr in _split(CASE_COLUMNS):
        xy = re.fullmatch(r"ST_([XY])\(location\) AS (\w+)", expr)
        row[xy[2] if xy else expr] = table["location"]["XY".index(xy[1])] if xy else table[expr]
    return row


@pytest.mark.parametrize("case", [opened(), worked()], ids=["opened", "worked"])
def test_a_record_survives_the_upsert_and_the_select(case: CaseRecord) -> None:
    args = case_args(case)
    assert not any(isinstance(a, Enum) for a in args), "enums are stored by value"
    assert case_from_row(fake_row(args)) == case


def test_every_record_field_is_stored_once() -> None:
    attrs = [a for s in STORED for a in s.attrs]
    assert sorted(attrs) == sorted(f.name for f in fields(CaseRecord))


def test_the_sql_lists_the_table_columns_in_the_args_order() -> None:
    columns, values, updated = _insert()
    assert columns == [c for s in STORED for c in s.columns]
    assert len(set(columns)) == len(columns)
    numbers = [int(n) for v in values for n in re.findall(r"\$(\d+)", v)]
    assert numbers == list(range(1, len(case_args(worked())) + 1))
    assert updated == [c for c in columns if c not in KEPT_COLUMNS]


def test_the_select_reads_back_every_column() -> None:
    selected = [e.split(" AS ")[-1] for e in _split(CASE_COLUMNS)]
    assert set(fake_row(case_args(worked()))) == set(selected)
    assert "location" not in selected and {"lon", "lat"} <= set(selected)


@pytest.mark.parametrize("case", [opened(), worked()], ids=["opened", "worked"])
def test_view_carries_every_caseview_field(case: CaseRecord) -> None:
    view = case.view()
    assert view.model_fields_set == set(CaseView.model_fields)
    record_fields = {f.name for f in fields(CaseRecord)}
    for name in CaseView.model_fields.keys() & record_fields:
        assert getattr(view, name) == getattr(case, name), name
    assert view.stages_done == tuple(s.stage for s in case.detail.stages)
    assert view.review_status == (case.detail.review.status if case.detail.review else None)
    assert view.extension_until == (case.detail.extension.until if case.detail.extension else None)


def test_a_field_of_a_type_without_a_column_type_is_refused() -> None:
    with pytest.raises(TypeError, match="STORED_AS"):
        _by_type("notes", dict[str, Any])
