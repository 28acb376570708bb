"""Deciding: whether a command is allowed in the case's state and for its issuer, and what it records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.cases import (
    AcceptCase,
    Actor,
    AssignCase,
    Assignee,
    AttachEvent,
    CancelCase,
    CaseCommand,
    CheckResult,
    CloseCase,
    DecideExtension,
    MergeCase,
    OpenCase,
    RecordStage,
    ReopenCase,
    RequestExtension,
    RequestReview,
    ReturnCase,
    ReviewDecision,
    SplitEvent,
    StartCase,
    StepSla,
    SubmitResult,
    Supervise,
    TransferCase,
    VerifyCase,
)
from core.enforcement import MAJOR_DECISIONS, STAGE_ORDER, STAGE_RULES, Decision, Evidence
from core.vocabulary import CaseState, EnforcementStage, EvidenceKind, PartyKind, Role, Step
from dispatch.cases.record import CaseRecord, CommandRefused, Item, NotYours, Payload
from dispatch.cases.self_report import reporter_report

DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.TOWNSHIP_LEADER, Role.COUNTY_SUPERVISOR, Role.ADMIN})
OPEN_STATES = frozenset(s for s in CaseState if s.is_open)


def decide(case: CaseRecord | None, cmd: CaseCommand) -> Sequence[Item]:
    """The log entries a command stands for, or CommandRefused with the reason."""
    if isinstance(cmd, OpenCase):
        return _open(case, cmd)
    assert case is not None
    rule = _RULES[type(cmd)]
    if case.state not in rule.states:
        raise CommandRefused(f"cannot {cmd.kind} a case that is {case.state.value}")
    rule.who(case, cmd.actor)
    return rule.entries(case, cmd)


def _open(case: CaseRecord | None, cmd: OpenCase) -> list[tuple[str, Payload]]:
    if case is not None:
        raise CommandRefused(f"case {cmd.case_id} already exists")
    _system_only(None, cmd.actor)
    src = cmd.source
    registered = {
        "source": src.model_dump(mode="json"),
        "priority": cmd.priority.value,
        "grid_code": cmd.grid_code,
        "grid_name": cmd.grid_name,
        "village_code": cmd.village_code,
        "township_code": cmd.township_code,
        "township_name": cmd.township_name,
        "rule_id": cmd.rule_id,
        "sla": cmd.sla.model_dump(),
        "due_at": cmd.due_at.isoformat(),
        "self_report": cmd.self_report.value if cmd.self_report else None,
    }
    return [("registered", registered), ("dispatched", _dispatch(cmd.assignee, cmd.issued_at, cmd.sla, None))]


def _dispatch(assignee: Assignee, at: datetime, sla: StepSla, reason: str | None) -> Payload:
    return {
        "assignee": assignee.model_dump(mode="json"),
        "reason": reason,
        **_enter(CaseState.DISPATCHED, Step.ACCEPT, at + timedelta(minutes=sla.accept_minutes)),
    }


def _enter(state: CaseState, step: Step, due: datetime | None) -> Payload:
    return {"state": state.value, "step": step.value, "step_due_at": due.isoformat() if due else None}


def _accept(case: CaseRecord, cmd: AcceptCase) -> list[Item]:
    due = cmd.issued_at + timedelta(minutes=case.detail.sla.verify_minutes)
    verified = reporter_report(case, cmd, _enter(CaseState.VERIFIED, Step.HANDLE, case.due_at))
    return [("accepted", _enter(CaseState.ACCEPTED, Step.VERIFY, due)), *verified]


def _return(case: CaseRecord, cmd: ReturnCase) -> list[tuple[str, Payload]]:
    due = cmd.issued_at + timedelta(minutes=case.detail.sla.accept_minutes)
    return [("returned", {"reason": cmd.reason, **_enter(CaseState.RETURNED, Step.DISPATCH, due)})]


def _assign(case: CaseRecord, cmd: AssignCase) -> list[tuple[str, Payload]]:
    return [("dispatched", _dispatch(cmd.assignee, cmd.issued_at, case.detail.sla, cmd.reason))]


def _verify(case: CaseRecord, cmd: VerifyCase) -> list[tuple[str, Payload]]:
    if cmd.actor.id in case.reporters:
        raise CommandRefused(f"{cmd.actor.id} reported this case and cannot verify it: someone else must")
    payload = {"finding": cmd.finding, "evidence": _evidence(cmd.evidence)}
    return [("verified", {**payload, **_enter(CaseState.VERIFIED, Step.HANDLE, case.due_at)})]


def _start(case: CaseRecord, cmd: StartCase) -> list[tuple[str, Payload]]:
    return [("started", {"note": cmd.note, **_enter(CaseState.IN_PROGRESS, Step.HANDLE, case.due_at)})]


def _submit(case: CaseRecord, cmd: SubmitResult) -> list[tuple[str, Payload]]:
    if case.enforcement and len(case.detail.stages) < len(STAGE_ORDER):
        missing = STAGE_ORDER[len(case.detail.stages)]
        raise CommandRefused(f"enforcement stage {missing.value} is not recorded yet")
    due = cmd.issued_at + timedelta(minutes=case.detail.sla.accept_minutes)
    payload = {"summary": cmd.summary, "evidence": _evidence(cmd.evidence)}
    return [("submitted", {**payload, **_enter(CaseState.SUBMITTED, Step.CHECK, due)})]


def _check(case: CaseRecord, cmd: CheckResult) -> list[tuple[str, Payload]]:
    if cmd.passed:
        due = cmd.issued_at + timedelta(minutes=case.detail.sla.accept_minutes)
        return [("checked", {"passed": True, "note": cmd.note, **_enter(CaseState.CHECKED, Step.CLOSE, due)})]
    if not cmd.note.strip():
        raise CommandRefused("a failed check needs a note saying what to rework")
    return [("checked", {"passed": False, "note": cmd.note, **_enter(CaseState.IN_PROGRESS, Step.HANDLE, case.due_at)})]


def _close(case: CaseRecord, cmd: CloseCase) -> list[tuple[str, Payload]]:
    return [("closed", {"note": cmd.note, **_enter(CaseState.CLOSED, Step.DONE, None)})]


def _cancel(case: CaseRecord, cmd: CancelCase) -> list[tuple[str, Payload]]:
    return [("cancelled", {"reason": cmd.reason, **_enter(CaseState.CANCELLED, Step.DONE, None)})]


def _reopen(case: CaseRecord, cmd: ReopenCase) -> list[tuple[str, Payload]]:
    due = cmd.issued_at + timedelta(minutes=case.detail.sla.accept_minutes)
    state, step = (CaseState.DISPATCHED, Step.ACCEPT) if case.assignee else (CaseState.REGISTERED, Step.DISPATCH)
    return [("reopened", {"reason": cmd.reason, **_enter(state, step, due)})]


def _merge(case: CaseRecord, cmd: MergeCase) -> list[tuple[str, Payload]]:
    if cmd.into == case.id:
        raise CommandRefused("a case cannot be merged into itself")
    payload = {"into": str(cmd.into), "reason": cmd.reason}
    return [("merged", {**payload, **_enter(CaseState.MERGED, Step.DONE, None)})]


def _attach(case: CaseRecord, cmd: AttachEvent) -> list[tuple[str, Payload]]:
    if any(e.event_id == cmd.source.event_id for e in case.detail.events):
        raise CommandRefused(f"event {cmd.source.event_id} is already on this case")
    payload = {
        "source": cmd.source.model_dump(mode="json"),
        "event": cmd.event,
        "from_case": str(cmd.from_case) if cmd.from_case else None,
    }
    return [("attached", payload)]


def _split(case: CaseRecord, cmd: SplitEvent) -> list[tuple[str, Payload]]:
    found = next((e for e in case.detail.events if e.event_id == cmd.event_id), None)
    if found is None:
        raise CommandRefused(f"event {cmd.event_id} is not on this case")
    if found.opening:
        raise CommandRefused(f"event {cmd.event_id} opened this case and cannot be split off")
    if not found.event:
        raise CommandRefused(f"event {cmd.event_id} came with a merged case: reopen that case instead")
    return [("split", {"event_id": str(cmd.event_id), "reason": cmd.reason})]


def _supervise(case: CaseRecord, cmd: Supervise) -> list[tuple[str, Payload]]:
    if cmd.actor.role == Role.SYSTEM and cmd.level <= case.supervision_level:
        raise CommandRefused(f"already supervised at level {case.supervision_level} for this step")
    payload = {
        "level": cmd.level,
        "reason": cmd.reason,
        "notified": list(cmd.notified),
        "step": case.step.value,
        "due_at": case.step_due_at.isoformat() if case.step_due_at else None,
    }
    return [("supervised", payload)]


def _request_extension(case: CaseRecord, cmd: RequestExtension) -> list[tuple[str, Payload]]:
    if case.detail.extension is not None:
        raise CommandRefused("an extension is already asked for and not yet decided")
    if case.due_at is not None and cmd.until <= case.due_at:
        raise CommandRefused(f"until must be later than the current deadline {case.due_at.isoformat()}")
    return [("extension_requested", {"until": cmd.until.isoformat(), "reason": cmd.reason})]


def _decide_extension(case: CaseRecord, cmd: DecideExtension) -> list[tuple[str, Payload]]:
    asked = case.detail.extension
    if asked is None:
        raise CommandRefused("no extension is asked for")
    payload: Payload = {"granted": cmd.granted, "note": cmd.note, "until": asked.until.isoformat()}
    if cmd.granted and case.step is Step.HANDLE:
        payload.update(_enter(case.state, Step.HANDLE, asked.until))
    return [("extension_decided", payload)]


def _stage(case: CaseRecord, cmd: RecordStage) -> list[tuple[str, Payload]]:
    _enforcement_only(case)
    done = case.detail.stages
    if len(done) == len(STAGE_ORDER):
        raise CommandRefused("every enforcement stage is already recorded")
    expected = STAGE_ORDER[len(done)]
    if cmd.stage is not expected:
        raise CommandRefused(f"stage {cmd.stage.value} cannot start before {expected.value} is recorded")
    rule = STAGE_RULES[cmd.stage]
    officers = set(cmd.officers)
    if len(officers) < rule.min_officers:
        raise CommandRefused(f"stage {cmd.stage.value} needs at least {rule.min_officers} officers named")
    photos = sum(1 for e in cmd.evidence if e.kind is EvidenceKind.PHOTO)
    documents = sum(1 for e in cmd.evidence if e.kind is EvidenceKind.DOCUMENT)
    if photos < rule.min_photos:
        raise CommandRefused(f"stage {cmd.stage.value} needs at least {rule.min_photos} photo(s)")
    if documents < rule.min_documents:
        raise CommandRefused(f"stage {cmd.stage.value} needs at least {rule.min_documents} document(s)")
    if rule.needs_decision:
        _decision_cleared(case, cmd.decision, officers)
    elif cmd.decision is not None:
        raise CommandRefused(f"stage {cmd.stage.value} takes no decision")
    payload = {
        "stage": cmd.stage.value,
        "officers": sorted(officers),
        "evidence": _evidence(cmd.evidence),
        "decision": cmd.decision.model_dump(mode="json") if cmd.decision else None,
        "note": cmd.note,
    }
    return [("stage", payload)]


def _decision_cleared(case: CaseRecord, decision: Decision | None, officers: set[str]) -> None:
    if decision is None:
        raise CommandRefused("the decide stage needs the decision")
    if not MAJOR_DECISIONS.is_major(decision):
        return
    review = case.detail.review
    if review is None or review.status != "approved":
        raise CommandRefused("a major decision needs an approved legal review (法制审核) first")
    if review.decision != decision:
        raise CommandRefused("the decision differs from the one the legal reviewer approved")
    if review.reviewer in officers:
        raise CommandRefused("the legal reviewer cannot be one of the deciding officers")


def _request_review(case: CaseRecord, cmd: RequestReview) -> list[tuple[str, Payload]]:
    _enforcement_only(case)
    if case.detail.review is not None and case.detail.review.status == "pending":
        raise CommandRefused("a legal review is already pending")
    if len(case.detail.stages) != STAGE_ORDER.index(EnforcementStage.DECIDE):
        raise CommandRefused("a legal review is asked for after the investigation and before the decision")
    return [("review_requested", {"decision": cmd.decision.model_dump(mode="json")})]


def _review(case: CaseRecord, cmd: ReviewDecision) -> list[tuple[str, Payload]]:
    _enforcement_only(case)
    if case.detail.review is None or case.detail.review.status != "pending":
        raise CommandRefused("no legal review is pending")
    return [("reviewed", {"approved": cmd.approved, "opinion": cmd.opinion})]


def _transfer(case: CaseRecord, cmd: TransferCase) -> list[tuple[str, Payload]]:
    before = {
        "grid_code": case.grid_code,
        "township_code": case.township_code,
        "assignee": case.assignee.model_dump(mode="json") if case.assignee else None,
    }
    after = {
        "grid_code": cmd.grid_code,
        "grid_name": cmd.grid_name,
        "village_code": cmd.village_code,
        "township_code": cmd.township_code,
        "township_name": cmd.township_name,
        "assignee": cmd.assignee.model_dump(mode="json"),
    }
    return [("transferred", {"from": before, "to": after, "reason": cmd.reason, "plan_id": cmd.plan_id})]


def _evidence(items: tuple[Evidence, ...]) -> list[Payload]:
    return [e.model_dump(mode="json") for e in items]


def _enforcement_only(case: CaseRecord) -> None:
    if not case.enforcement:
        raise CommandRefused("only cases of the enforcement team have enforcement stages and legal review")


# --- who may issue what ------------------------------------------------------------------------------------------


def _system_only(case: CaseRecord | None, actor: Actor) -> None:
    if actor.role != Role.SYSTEM:
        raise NotYours(f"only the system issues this command, not a {actor.role}")


def _in_scope(case: CaseRecord, actor: Actor) -> bool:
    if actor.role == Role.ADMIN:
        return True
    return bool(actor.unit_code and case.township_code and case.township_code.startswith(actor.unit_code))


def _dispatcher(case: CaseRecord, actor: Actor) -> None:
    if actor.role not in DISPATCH_ROLES:
        raise NotYours(f"a {actor.role} cannot do this: it is for the dispatcher or a leader")
    if not _in_scope(case, actor):
        raise NotYours(f"{actor.id} does not serve township {case.township_code}")


def _dispatcher_or_system(case: CaseRecord, actor: Actor) -> None:
    if actor.role != Role.SYSTEM:
        _dispatcher(case, actor)


def _assignee(case: CaseRecord, actor: Actor) -> None:
    a = case.assignee
    if a is None:
        raise NotYours("the case is not dispatched to anyone")
    mine = actor.id == a.id if a.kind is PartyKind.GRID_MEMBER else actor.team_id == a.id
    if not mine:
        raise NotYours(f"the case is dispatched to {a.name}, not to {actor.id}")


def _legal_reviewer(case: CaseRecord, actor: Actor) -> None:
    if actor.role != Role.LEGAL_REVIEWER:
        raise NotYours(f"a {actor.role} cannot review: it is for a legal reviewer")
    if not _in_scope(case, actor):
        raise NotYours(f"{actor.id} does not serve township {case.township_code}")
    if actor.id in case.detail.handlers:
        raise NotYours(f"{actor.id} handled this case and cannot review its decision")


@dataclass(frozen=True)
class _Rule:
    states: frozenset[CaseState]
    who: Callable[[CaseRecord, Actor], None]
    entries: Callable[[CaseRecord, Any], Sequence[Item]]


_BEFORE_RESULT = frozenset({CaseState.ACCEPTED, CaseState.VERIFIED, CaseState.IN_PROGRESS})
_RULES: dict[type, _Rule] = {
    TransferCase: _Rule(OPEN_STATES, _dispatcher_or_system, _transfer),
    AttachEvent: _Rule(OPEN_STATES, _system_only, _attach),
    Supervise: _Rule(OPEN_STATES, _dispatcher_or_system, _supervise),
    AcceptCase: _Rule(frozenset({CaseState.DISPATCHED}), _assignee, _accept),
    ReturnCase: _Rule(frozenset({CaseState.DISPATCHED}) | _BEFORE_RESULT, _assignee, _return),
    AssignCase: _Rule(OPEN_STATES, _dispatcher, _assign),
    VerifyCase: _Rule(frozenset({CaseState.ACCEPTED}), _assignee, _verify),
    StartCase: _Rule(frozenset({CaseState.VERIFIED}), _assignee, _start),
    SubmitResult: _Rule(frozenset({CaseState.IN_PROGRESS}), _assignee, _submit),
    CheckResult: _Rule(frozenset({CaseState.SUBMITTED}), _dispatcher, _check),
    CloseCase: _Rule(frozenset({CaseState.CHECKED}), _dispatcher, _close),
    CancelCase: _Rule(OPEN_STATES, _dispatcher, _cancel),
    ReopenCase: _Rule(frozenset({CaseState.CLOSED, CaseState.CANCELLED}), _dispatcher, _reopen),
    MergeCase: _Rule(OPEN_STATES, _dispatcher, _merge),
    SplitEvent: _Rule(OPEN_STATES, _dispatcher, _split),
    RequestExtension: _Rule(_BEFORE_RESULT, _assignee, _request_extension),
    DecideExtension: _Rule(OPEN_STATES, _dispatcher, _decide_extension),
    RecordStage: _Rule(frozenset({CaseState.IN_PROGRESS}), _assignee, _stage),
    RequestReview: _Rule(frozenset({CaseState.IN_PROGRESS}), _assignee, _request_review),
    ReviewDecision: _Rule(frozenset({CaseState.IN_PROGRESS}), _legal_reviewer, _review),
}
