"""Evolving: the case after one log entry, pure and without a clock (everything needed is in the payload)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from core.case_views import AttachedEvent, CaseDetail, ExtensionAsked, LegalReview, StageDone
from core.cases import Assignee, CaseSource, StepSla
from core.enforcement import Decision, Evidence
from core.vocabulary import CaseState, Severity, Step
from dispatch.cases.record import CaseRecord, LogEntry, Payload

_HANDLER_ENTRIES = frozenset({"accepted", "verified", "started", "submitted", "stage", "review_requested"})


def evolve(case: CaseRecord | None, entry: LogEntry) -> CaseRecord:
    """The case after `entry`; folding a case's whole log from None rebuilds it."""
    p = entry.payload
    if entry.kind == "registered":
        return _registered(entry)
    if case is None:
        raise ValueError(f"log of case {entry.case_id} does not start with registered (seq {entry.seq})")
    case = replace(case, version=entry.seq, updated_at=entry.at)
    if "state" in p:
        case = _entered(case, p, entry.at)
    detail = case.detail
    if entry.kind in _HANDLER_ENTRIES and entry.actor.id not in detail.handlers:
        detail = detail.model_copy(update={"handlers": (*detail.handlers, entry.actor.id)})
    if entry.kind == "stage":
        detail = detail.model_copy(update={"handlers": tuple(dict.fromkeys((*detail.handlers, *p["officers"])))})
    case = replace(case, detail=detail)
    change = _EVOLVE.get(entry.kind)
    return change(case, entry) if change else case


def _registered(entry: LogEntry) -> CaseRecord:
    p = entry.payload
    src = CaseSource.model_validate(p["source"])
    return CaseRecord(
        id=entry.case_id,
        version=entry.seq,
        state=CaseState.REGISTERED,
        category=src.category,
        priority=Severity(p["priority"]),
        event_type=src.event_type,
        description=src.description,
        grid_code=p["grid_code"],
        grid_name=p["grid_name"],
        village_code=p["village_code"],
        township_code=p["township_code"],
        township_name=p["township_name"],
        assignee=None,
        rule_id=p["rule_id"],
        lon=src.location.lon,
        lat=src.location.lat,
        opened_at=entry.at,
        due_at=datetime.fromisoformat(p["due_at"]),
        updated_at=entry.at,
        event_count=1,
        reporters=(src.reporter_id,),
        detail=CaseDetail(
            sla=StepSla.model_validate(p["sla"]),
            events=(AttachedEvent(source=src, attached_at=entry.at, opening=True),),
            self_report=p.get("self_report"),
        ),
    )


def _entered(case: CaseRecord, p: Payload, at: datetime) -> CaseRecord:
    step = Step(p["step"])
    state = CaseState(p["state"])
    return replace(
        case,
        state=state,
        step=step,
        step_due_at=datetime.fromisoformat(p["step_due_at"]) if p["step_due_at"] else None,
        supervision_level=0
        if step != case.step or p["step_due_at"] != _iso(case.step_due_at)
        else case.supervision_level,
        closed_at=at if not state.is_open else None,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _on_dispatched(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return replace(case, assignee=Assignee.model_validate(e.payload["assignee"]))


def _on_checked(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return case if e.payload["passed"] else replace(case, rework_count=case.rework_count + 1)


def _on_reopened(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return replace(case, reopen_count=case.reopen_count + 1)


def _on_merged(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return replace(case, merged_into=UUID(e.payload["into"]))


def _on_attached(case: CaseRecord, e: LogEntry) -> CaseRecord:
    src = CaseSource.model_validate(e.payload["source"])
    item = AttachedEvent(source=src, attached_at=e.at, event=e.payload["event"])
    return replace(
        case,
        event_count=case.event_count + 1,
        reporters=tuple(dict.fromkeys((*case.reporters, src.reporter_id))),
        detail=case.detail.model_copy(update={"events": (*case.detail.events, item)}),
    )


def _on_split(case: CaseRecord, e: LogEntry) -> CaseRecord:
    event_id = UUID(e.payload["event_id"])
    events = tuple(x for x in case.detail.events if x.event_id != event_id)
    return replace(
        case,
        event_count=case.event_count - 1,
        reporters=tuple(dict.fromkeys(x.reporter_id for x in events)),
        detail=case.detail.model_copy(update={"events": events}),
    )


def _on_supervised(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return replace(case, supervision_level=max(case.supervision_level, e.payload["level"]))


def _on_extension_requested(case: CaseRecord, e: LogEntry) -> CaseRecord:
    asked = ExtensionAsked(until=datetime.fromisoformat(e.payload["until"]), reason=e.payload["reason"], by=e.actor.id)
    return replace(case, detail=case.detail.model_copy(update={"extension": asked}))


def _on_extension_decided(case: CaseRecord, e: LogEntry) -> CaseRecord:
    case = replace(case, detail=case.detail.model_copy(update={"extension": None}))
    if not e.payload["granted"]:
        return case
    return replace(case, due_at=datetime.fromisoformat(e.payload["until"]), extension_count=case.extension_count + 1)


def _on_stage(case: CaseRecord, e: LogEntry) -> CaseRecord:
    p = e.payload
    done = StageDone(
        stage=p["stage"],
        officers=tuple(p["officers"]),
        evidence=tuple(Evidence.model_validate(x) for x in p["evidence"]),
        decision=Decision.model_validate(p["decision"]) if p["decision"] else None,
        by=e.actor.id,
        at=e.at,
    )
    return replace(case, detail=case.detail.model_copy(update={"stages": (*case.detail.stages, done)}))


def _on_review_requested(case: CaseRecord, e: LogEntry) -> CaseRecord:
    review = LegalReview(
        status="pending", decision=Decision.model_validate(e.payload["decision"]), requested_by=e.actor.id
    )
    return replace(case, detail=case.detail.model_copy(update={"review": review}))


def _on_reviewed(case: CaseRecord, e: LogEntry) -> CaseRecord:
    assert case.detail.review is not None
    review = case.detail.review.model_copy(
        update={
            "status": "approved" if e.payload["approved"] else "rejected",
            "reviewer": e.actor.id,
            "opinion": e.payload["opinion"],
        }
    )
    return replace(case, detail=case.detail.model_copy(update={"review": review}))


def _on_transferred(case: CaseRecord, e: LogEntry) -> CaseRecord:
    to = e.payload["to"]
    return replace(
        case,
        grid_code=to["grid_code"],
        grid_name=to["grid_name"],
        village_code=to["village_code"],
        township_code=to["township_code"],
        township_name=to["township_name"],
        assignee=Assignee.model_validate(to["assignee"]),
    )


_EVOLVE = {
    "dispatched": _on_dispatched,
    "checked": _on_checked,
    "reopened": _on_reopened,
    "merged": _on_merged,
    "attached": _on_attached,
    "split": _on_split,
    "supervised": _on_supervised,
    "extension_requested": _on_extension_requested,
    "extension_decided": _on_extension_decided,
    "stage": _on_stage,
    "review_requested": _on_review_requested,
    "reviewed": _on_reviewed,
    "transferred": _on_transferred,
}
