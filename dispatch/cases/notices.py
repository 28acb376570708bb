"""Which notices a case's log entry stands for: who hears of it (by person, team or role, inside the case's
township), of what kind, and in which words (Chinese and English). Pure: the store resolves the audience to people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.vocabulary import PartyKind, Role
from dispatch.cases.record import CaseRecord, LogEntry, Payload

Selector = tuple[str, str]
"""Who, as ('person', id), ('team', team id: all its members) or ('role', role: everyone of it in the township)."""

LEVEL_ZH = {1: "乡镇级", 2: "县级", 3: "县级（再次）"}
LEVEL_EN = {1: "township", 2: "county", 3: "county, repeated"}
STEP_ZH = {"accept": "签收", "verify": "核查", "handle": "处置", "check": "核验", "close": "结案", "dispatch": "派遣"}


@dataclass(frozen=True)
class NoticeDraft:
    """A notice before its audience is resolved to people: one row per person reached, once per (case, source)."""

    case_id: UUID
    source: str
    """What it comes from, unique per case: `log:<seq>` for a log entry, `deadline:<step>:<due>` for the clock."""
    kind: str
    township_code: str | None
    audience: tuple[Selector, ...]
    text_zh: str
    text_en: str
    actor_id: str = ""
    """Who caused it; never told of their own act."""


def notices_for(entry: LogEntry, before: CaseRecord | None, case: CaseRecord) -> list[NoticeDraft]:
    """The notices one log entry stands for; `before` is the case before its command, `case` the case after."""
    derive = _DERIVE.get(entry.kind)
    if derive is None:
        return []
    made = derive(entry.payload, before, case)
    if made is None:
        return []
    kind, audience, zh, en = made
    label_zh, label_en = _label(case)
    return [
        NoticeDraft(
            case_id=entry.case_id,
            source=f"log:{entry.seq}",
            kind=kind,
            township_code=_township(entry, case),
            audience=audience,
            text_zh=f"{zh}：{label_zh}",
            text_en=f"{en}: {label_en}",
            actor_id=entry.actor.id,
        )
    ]


def deadline_notice(
    case_id: UUID, township: str | None, assignee: Payload, step: str, due: datetime, minutes: int, description: str
) -> NoticeDraft:
    """The clock's warning to the assignee that the current step's deadline is near (once per step and deadline)."""
    short = _short(description)
    return NoticeDraft(
        case_id=case_id,
        source=f"deadline:{step}:{due.isoformat()}",
        kind="deadline",
        township_code=township,
        audience=_assignee(assignee),
        text_zh=f"即将超时：{STEP_ZH.get(step, step)}还剩约{minutes}分钟：{short}",
        text_en=f"Deadline near: {step} due in about {minutes} min: {short}",
    )


Made = tuple[str, tuple[Selector, ...], str, str] | None


def _assignee(assignee: Payload | None) -> tuple[Selector, ...]:
    """A grid member (or duty post) by person; a team or agency by all of its members."""
    if not assignee:
        return ()
    return (("person" if assignee["kind"] == PartyKind.GRID_MEMBER else "team", assignee["id"]),)


def _dispatched(p: Payload, before: CaseRecord | None, case: CaseRecord) -> Made:
    return "dispatched", _assignee(p["assignee"]), "新派遣", "New dispatch"


def _transferred(p: Payload, before: CaseRecord | None, case: CaseRecord) -> Made:
    return "dispatched", _assignee(p["to"]["assignee"]), "案件转入", "Case transferred to you"


def _returned(p: Payload, before: CaseRecord | None, case: CaseRecord) -> Made:
    why = _short(p.get("reason") or "")
    return "returned", (("role", Role.DISPATCHER),), f"案件退回（{why}）", f"Case handed back ({why})"


def _supervised(p: Payload, before: CaseRecord | None, case: CaseRecord) -> Made:
    level = int(p["level"])
    named = tuple(("person", person) for person in p.get("notified") or ())
    # The assignee too, by team when a team has the case (the clock names a team by its id, which is no person).
    who = tuple(dict.fromkeys((*named, *_assignee(case.assignee.model_dump(mode="json") if case.assignee else None))))
    zh, en = f"督办（{LEVEL_ZH.get(level, level)}）", f"Supervision (督办, {LEVEL_EN.get(level, level)})"
    return "supervised", who, zh, en


def _review_requested(p: Payload, before: CaseRecord | None, case: CaseRecord) -> Made:
    return "review_requested", (("role", Role.LEGAL_REVIEWER),), "法制审核申请", "Legal review requested"


def _extension_requested(p: Payload, before: CaseRecord | None, case: CaseRecord) -> Made:
    return "extension_requested", (("role", Role.DISPATCHER),), "延期申请", "Extension requested"


def _extension_decided(p: Payload, before: CaseRecord | None, case: CaseRecord) -> Made:
    asked = before.detail.extension if before is not None else None
    if asked is None:
        return None
    granted = bool(p["granted"])
    zh, en = ("延期已批准", "Extension granted") if granted else ("延期未批准", "Extension refused")
    return "extension_decided", (("person", asked.by),), zh, en


_DERIVE: dict[str, Callable[[Payload, CaseRecord | None, CaseRecord], Made]] = {
    "dispatched": _dispatched,
    "transferred": _transferred,
    "returned": _returned,
    "supervised": _supervised,
    "review_requested": _review_requested,
    "extension_requested": _extension_requested,
    "extension_decided": _extension_decided,
}


def _township(entry: LogEntry, case: CaseRecord) -> str | None:
    if entry.kind == "transferred":
        return str(entry.payload["to"]["township_code"])
    return case.township_code


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(case: CaseRecord) -> tuple[str, str]:
    where = case.grid_name or case.township_name or ""
    short = _short(case.description)
    return f"{where}{short}", f"{short} ({where})" if where else short
