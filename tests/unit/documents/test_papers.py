"""The printed papers: Chinese text a reader extracts, the case code, and the QR code of the case link (no I/O)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from PIL import Image
from pypdf import PdfReader

from core.case_views import CaseDetail, StageDone
from core.cases import Assignee
from core.enforcement import Decision, Evidence
from core.vocabulary import CaseState, EnforcementStage, EvidenceKind, PartyKind, Severity
from dispatch.cases.record import CaseRecord
from dispatch.documents import papers
from dispatch.documents.pdf import render
from dispatch.documents.qr import BORDER, SCALE, qr_matrix

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
LINK = "http://127.0.0.1:8000/#case="


def record(**overrides: object) -> CaseRecord:
    """An enforcement case of 乔庄镇."""
    fields: dict[str, object] = {
        "id": uuid4(),
        "version": 5,
        "state": CaseState.IN_PROGRESS,
        "category": "1099",
        "priority": Severity.HIGH,
        "event_type": "enforcement_lead",
        "description": "河道旁违法搭建彩钢棚",
        "grid_code": "510822100201001",
        "grid_name": "第一网格",
        "village_code": "510822100201",
        "township_code": "510822100",
        "township_name": "乔庄镇",
        "assignee": Assignee(kind=PartyKind.ENFORCEMENT, id="enf-510822100", name="乔庄镇综合行政执法队"),
        "rule_id": 1,
        "lon": 105.2,
        "lat": 32.5,
        "opened_at": NOW - timedelta(days=2),
        "due_at": NOW + timedelta(days=1),
        "updated_at": NOW,
        "event_count": 1,
    }
    fields.update(overrides)
    return CaseRecord(**fields)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def qr_read(pdf: bytes) -> list[list[bool]]:
    """The modules of the first picture on the first page, sampled at each module's centre as a scanner would."""
    image = Image.open(io.BytesIO(PdfReader(io.BytesIO(pdf)).pages[0].images[0].data)).convert("L")
    n = image.size[0] // SCALE - 2 * BORDER
    at = SCALE // 2
    pixel = image.getpixel
    return [[pixel(((c + BORDER) * SCALE + at, (r + BORDER) * SCALE + at)) < 128 for c in range(n)] for r in range(n)]


def test_the_handling_sheet_prints_the_case_and_its_steps_in_chinese() -> None:
    case = record()
    log = [
        {
            "seq": 1,
            "kind": "registered",
            "actor_id": "system:intake",
            "at": NOW - timedelta(days=2),
            "payload": {"source": {"reporter_id": "gm-1"}},
        },
        {"seq": 2, "kind": "returned", "actor_id": "officer-1", "at": NOW, "payload": {"reason": "不属本队职责"}},
    ]
    pdf = render(papers.handling_sheet(case, log, {"gm-1": "王秀英"}, f"{LINK}{case.id}"))
    text = text_of(pdf)
    for words in (
        "案件处置单",
        str(case.id),
        "王秀英（gm-1）",
        "违法建设",
        "乔庄镇",
        "河道旁违法搭建彩钢棚",
        "受理登记",
        "不属本队职责",
    ):
        assert words in text
    assert qr_read(pdf) == qr_matrix(f"{LINK}{case.id}")
    assert papers.reporters(log) == ["gm-1"]


def test_the_supervision_sheet_names_the_level_the_late_step_and_who_was_told() -> None:
    case = record()
    sup = {
        "seq": 7, "level": 2, "step": "accept", "due_at": NOW, "at": NOW + timedelta(hours=5),
        "by_id": "system:clock", "reason": "step accept overdue by 300 min", "notified": ["enf-510822100", "ld-1"],
    }  # fmt: skip
    pdf = render(papers.supervision_sheet(case, sup, f"{LINK}{case.id}"))
    text = text_of(pdf)
    for words in ("督", "县级督办", "待接收", "enf-510822100", str(case.id), f"DB-{str(case.id)[:8].upper()}-7"):
        assert words in text
    assert qr_read(pdf) == qr_matrix(f"{LINK}{case.id}")


def test_the_decision_document_carries_the_decision_fields_and_the_rights_notice() -> None:
    decision = Decision(
        party_kind="person",
        party_name="张三",
        party_id_number="510822199001011234",
        violation="未经批准在河道管理范围内搭建彩钢棚",
        legal_basis="《中华人民共和国河道管理条例》第二十四条",
        measures=("fine", "demolition"),
        fine_yuan=5000,
    )
    doc = Evidence(sha256="a" * 64, kind=EvidenceKind.DOCUMENT)
    stage = StageDone(
        stage=EnforcementStage.DECIDE, officers=("张强", "李明"), evidence=(doc,), decision=decision, by="o", at=NOW
    )
    case = record(detail=CaseDetail(stages=(stage,)))
    paper = papers.decision_document(case, f"{LINK}{case.id}")
    assert paper is not None
    text = text_of(render(paper))
    for words in (
        "行政处罚决定书",
        "张三",
        "510822199001011234",
        "河道管理条例",
        "罚款",
        "限期拆除",
        "5000",
        "行政复议",
    ):
        assert words in text
    assert papers.decision_personal_fields(decision) == ["decision.party_name", "decision.party_id_number"]


def test_a_case_without_a_decision_has_no_decision_document() -> None:
    assert papers.decision_document(record(), LINK) is None
