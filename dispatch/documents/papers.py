"""What the three printed papers of a case say: 处置单, 督办单, 行政处罚决定书 (pure: a record in, a Paper out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.categories import CategoryTable
from core.enforcement import Decision
from core.vocabulary import EnforcementStage
from dispatch.cases.record import CaseRecord
from dispatch.documents.labels import (
    EVENT_TYPES,
    LOG_KINDS,
    MEASURES,
    PARTY_KINDS,
    PRIORITIES,
    STAGES,
    STATES,
    STEPS,
    SUPERVISION_LEVELS,
    category_names,
    label,
)
from dispatch.documents.pdf import Paper, Section
from dispatch.documents.rows import local_time

NOTES = ("reason", "finding", "result", "note", "opinion")
RIGHTS = (
    "当事人如不服本决定，可以在收到本决定书之日起六十日内依法申请行政复议，"
    "或者在六个月内依法向人民法院提起行政诉讼。复议和诉讼期间，本决定不停止执行。"
)


def case_fields(case: CaseRecord, categories: CategoryTable | None = None) -> list[tuple[str, str]]:
    """The facts every paper of a case starts with (category names from `categories`, else the shipped table)."""
    a = case.assignee
    major, minor = category_names(case.category, categories)
    return [
        ("类别", f"{major}／{minor}（{case.category}）"),
        ("来源", label(EVENT_TYPES, case.event_type)),
        ("紧急程度", label(PRIORITIES, case.priority)),
        ("状态", label(STATES, case.state)),
        ("乡镇", case.township_name or ""),
        ("网格", f"{case.grid_name or ''}（{case.grid_code or ''}）"),
        ("责任方", f"{a.name or a.id}（{label(PARTY_KINDS, a.kind)}）" if a else ""),
        ("上报时间", local_time(case.opened_at)),
        ("办结时限", local_time(case.due_at)),
        ("问题描述", case.description),
    ]


def reporters(log: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ids of the people whose reports the case holds: the opening event's and every attached one's."""
    ids: list[str] = []
    for entry in log:
        payload = entry.get("payload")
        source = payload.get("source") if isinstance(payload, dict) else None
        reporter = source.get("reporter_id") if isinstance(source, dict) else None
        if entry.get("kind") in ("registered", "attached") and reporter and str(reporter) not in ids:
            ids.append(str(reporter))
    return ids


def handling_sheet(
    case: CaseRecord,
    log: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    link: str,
    categories: CategoryTable | None = None,
) -> Paper:
    """处置单: the case, who reported it (by name where the registry knows them), and every step of its handling."""
    rows = [("时间", "环节", "办理人", "说明")]
    rows += [(local_time(e["at"]), label(LOG_KINDS, e["kind"]), str(e["actor_id"]), _note(e)) for e in log]
    who = [f"{names[r]}（{r}）" if r in names else r for r in reporters(log)]
    fields = [*case_fields(case, categories), ("上报人", "、".join(who))]
    if case.closed_at:
        fields.append(("办结时间", local_time(case.closed_at)))
    return Paper(
        title="案件处置单",
        number=f"CZ-{_short(case)}",
        case_code=str(case.id),
        link=link,
        fields=tuple(fields),
        sections=(Section("处置过程", rows=tuple(rows)),),
        footer=("", "经办人（签字）：                    审核人（签字）：                    日期："),
    )


def supervision_sheet(
    case: CaseRecord, record: Mapping[str, Any], link: str, categories: CategoryTable | None = None
) -> Paper:
    """督办单: one supervision of a case: its level, the late step, who was told, and by when to answer."""
    level = int(record["level"])
    fields = [
        ("督办级别", SUPERVISION_LEVELS.get(level, str(level))),
        ("督办时间", local_time(record["at"])),
        ("督办人", str(record["by_id"])),
        ("超期环节", label(STEPS, record.get("step"))),
        ("环节时限", local_time(record.get("due_at"))),
        ("督办事由", str(record.get("reason") or "")),
        ("被督办人", "、".join(record.get("notified") or ())),
        *case_fields(case, categories),
    ]
    return Paper(
        title="督 办 单",
        number=f"DB-{_short(case)}-{record['seq']}",
        case_code=str(case.id),
        link=link,
        fields=tuple(fields),
        sections=(Section("办理要求", paragraphs=("请被督办单位（人员）接此单后立即办理，并在时限内反馈办理结果。",)),),
        footer=("", "督办单位（盖章）：                              日期："),
    )


def decision_of(case: CaseRecord) -> tuple[Decision, tuple[str, ...]] | None:
    """The decision taken in the case's 审查决定 stage and its officers; None when none was taken yet."""
    for stage in case.detail.stages:
        if stage.stage is EnforcementStage.DECIDE and stage.decision is not None:
            return stage.decision, stage.officers
    return None


def decision_document(case: CaseRecord, link: str) -> Paper | None:
    """行政处罚决定书 of an enforcement case, from the decision its 审查决定 stage recorded; None without one."""
    found = decision_of(case)
    if found is None:
        return None
    decision, officers = found
    party = "个人" if decision.party_kind == "person" else "单位"
    id_label = "身份证号码" if decision.party_kind == "person" else "统一社会信用代码"
    fine = f"罚款人民币 {decision.fine_yuan} 元" if decision.fine_yuan else "无"
    year = case.opened_at.year
    return Paper(
        title=f"{case.township_name or ''}综合行政执法队\n行政处罚决定书",
        number=f"{case.township_code or ''}罚决字〔{year}〕第{_short(case)}号",
        case_code=str(case.id),
        link=link,
        fields=(
            ("当事人", f"{decision.party_name}（{party}）"),
            (id_label, decision.party_id_number or ""),
            ("违法事实", decision.violation),
            ("法律依据", decision.legal_basis),
            ("处罚种类", "、".join(label(MEASURES, m) for m in decision.measures)),
            ("罚款金额", fine),
            ("执法人员", "、".join(officers)),
            ("办理环节", "、".join(label(STAGES, s.stage) for s in case.detail.stages)),
            ("违法地点", f"{case.township_name or ''}{case.grid_name or ''}"),
        ),
        sections=(Section("告知事项", paragraphs=(RIGHTS,)),),
        footer=("", "执法机关（盖章）：                              日期："),
    )


def decision_personal_fields(decision: Decision) -> list[str]:
    """The personal fields a decision document prints, for the access log."""
    return ["decision.party_name", *(["decision.party_id_number"] if decision.party_id_number else [])]


def _note(entry: Mapping[str, Any]) -> str:
    payload = entry.get("payload") or {}
    if isinstance(payload, str):
        return ""
    return "；".join(str(payload[k]) for k in NOTES if payload.get(k))


def _short(case: CaseRecord) -> str:
    return str(case.id)[:8].upper()
