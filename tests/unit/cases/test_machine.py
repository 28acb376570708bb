"""The case state machine: every command in every state, who may issue it, and what each step records."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.cases import (
    BODY_ADAPTER,
    COMMAND_ADAPTER,
    Actor,
    Assignee,
    AttachEvent,
    CaseCommand,
    OpenCase,
    StepSla,
    Supervise,
)
from core.events import EVENT_ADAPTER
from core.vocabulary import CaseState, PartyKind, Role, Step
from dispatch.cases.issue import command_from_body
from dispatch.cases.machine import CaseRecord, CommandRefused, LogEntry, Outcome, apply, evolve
from dispatch.routing.decision import decide
from tests.unit.factories import TOWN, event_body, snapshot

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SYSTEM = Actor(id="system:test", role=Role.SYSTEM)
MEMBER = Actor(id="gm-1", role=Role.GRID_MEMBER, unit_code=TOWN)
OTHER_MEMBER = Actor(id="gm-2", role=Role.GRID_MEMBER, unit_code=TOWN)
REPORTER = Actor(id="gm-510822100201001", role=Role.GRID_MEMBER, unit_code=TOWN)
DISPATCHER = Actor(id="disp-1", role=Role.DISPATCHER, unit_code=TOWN)
FOREIGN_DISPATCHER = Actor(id="disp-9", role=Role.DISPATCHER, unit_code="510822999")
OFFICER = Actor(id="off-1", role=Role.OFFICER, unit_code=TOWN, team_id="enf-1")
REVIEWER = Actor(id="legal-1", role=Role.LEGAL_REVIEWER, unit_code=TOWN, team_id="enf-1")
TEAM = Assignee(kind=PartyKind.ENFORCEMENT, id="enf-1", name="乔庄镇综合行政执法队")
PHOTO = {"sha256": "a" * 64, "kind": "photo"}
DOC = {"sha256": "b" * 64, "kind": "document"}
SMALL_FINE = {
    "party_kind": "person",
    "party_name": "王小明",
    "violation": "占道经营",
    "legal_basis": "《城市市容和环境卫生管理条例》第三十六条",
    "measures": ["fine"],
    "fine_yuan": 200,
}
CLOSURE = {**SMALL_FINE, "measures": ["closure"], "fine_yuan": 0}


class Case:
    """A case driven through commands, keeping its log so tests can fold it again."""

    def __init__(self, enforcement: bool = False, **event: Any) -> None:
        times = {"occurred_at": (T0 - timedelta(minutes=5)).isoformat(), "reported_at": T0.isoformat()}
        body = event_body(**{**times, **event})
        opened = decide(EVENT_ADAPTER.validate_python(body), snapshot(), T0)
        assert isinstance(opened, OpenCase)
        if enforcement:
            opened = opened.model_copy(update={"assignee": TEAM})
        opened = opened.model_copy(update={"sla": StepSla(accept_minutes=30, verify_minutes=120)})
        self.event = body
        self.clock = T0
        self.outcome = apply(None, opened)
        self.log: list[LogEntry] = list(self.outcome.entries)

    def now(self) -> CaseRecord:
        """The case now."""
        return self.outcome.case

    def command(self, actor: Actor, **body: Any) -> CaseCommand:
        """A person's command on this case, a minute after the last one."""
        self.clock += timedelta(minutes=1)
        party = Assignee.model_validate(body["assignee"]) if "assignee" in body else None
        if party is not None:
            body = {**body, "assignee": {"kind": party.kind, "id": party.id}}
        return command_from_body(
            BODY_ADAPTER.validate_python(body), self.now().id, actor, self.clock, uuid.uuid4(), party
        )

    def do(self, actor: Actor, **body: Any) -> Outcome:
        """Apply a person's command; raises CommandRefused when it is not allowed."""
        return self.run(self.command(actor, **body))

    def run(self, cmd: CaseCommand) -> Outcome:
        """Apply any command."""
        self.outcome = apply(self.now(), cmd, self.log[-1].hash)
        self.log.extend(self.outcome.entries)
        return self.outcome

    def refused(self, actor: Actor, **body: Any) -> str:
        """The reason a person's command is refused."""
        with pytest.raises(CommandRefused) as exc:
            self.do(actor, **body)
        return str(exc.value)


def through_handling(case: Case, actor: Actor = MEMBER) -> None:
    """Dispatched → accepted → verified → in progress."""
    case.do(actor, kind="accept")
    case.do(actor, kind="verify", finding="现场确认属实", evidence=[PHOTO])
    case.do(actor, kind="start")


def test_a_case_goes_through_all_six_steps_with_a_clock_on_each() -> None:
    case = Case()
    rec = case.now()
    assert (rec.state, rec.step, rec.assignee and rec.assignee.id) == (CaseState.DISPATCHED, Step.ACCEPT, "gm-1")
    assert rec.step_due_at == T0 + timedelta(minutes=30)
    case.do(MEMBER, kind="accept")
    assert case.now().step is Step.VERIFY and case.now().step_due_at == case.clock + timedelta(minutes=120)
    case.do(MEMBER, kind="verify", finding="现场确认属实", evidence=[PHOTO])
    assert case.now().step is Step.HANDLE and case.now().step_due_at == case.now().due_at
    case.do(MEMBER, kind="start")
    case.do(MEMBER, kind="submit", summary="已清运", evidence=[PHOTO])
    assert case.now().state is CaseState.SUBMITTED and case.now().step is Step.CHECK
    case.do(DISPATCHER, kind="check", passed=True)
    case.do(DISPATCHER, kind="close", note="办结销号")
    rec = case.now()
    assert rec.state is CaseState.CLOSED and rec.step is Step.DONE and rec.closed_at == case.clock
    assert [e.kind for e in case.log] == [
        "registered",
        "dispatched",
        "accepted",
        "verified",
        "started",
        "submitted",
        "checked",
        "closed",
    ]
    assert [e.seq for e in case.log] == list(range(1, 9)) and rec.version == 8


def test_folding_the_log_rebuilds_exactly_the_case_the_commands_produced() -> None:
    case = Case()
    through_handling(case)
    case.do(MEMBER, kind="request_extension", until=(case.clock + timedelta(days=5)).isoformat(), reason="等材料")
    case.do(DISPATCHER, kind="decide_extension", granted=True)
    case.do(MEMBER, kind="submit", summary="已处理", evidence=[PHOTO])
    case.do(DISPATCHER, kind="check", passed=False, note="照片不清晰")
    case.do(DISPATCHER, kind="supervise", reason="请尽快返工")
    folded: CaseRecord | None = None
    for entry in case.log:
        folded = evolve(folded, entry)
    assert folded == case.now()


def test_a_failed_check_is_rework_and_is_counted() -> None:
    case = Case()
    through_handling(case)
    case.do(MEMBER, kind="submit", summary="已处理", evidence=[PHOTO])
    assert "needs a note" in case.refused(DISPATCHER, kind="check", passed=False)
    case.do(DISPATCHER, kind="check", passed=False, note="垃圾未清完")
    assert (case.now().state, case.now().rework_count) == (CaseState.IN_PROGRESS, 1)
    case.do(MEMBER, kind="submit", summary="已全部清运", evidence=[PHOTO])
    case.do(DISPATCHER, kind="check", passed=True)
    case.do(DISPATCHER, kind="close")
    assert case.now().rework_count == 1 and case.now().state is CaseState.CLOSED


def test_returned_as_not_ours_goes_back_to_the_dispatcher_who_dispatches_again() -> None:
    case = Case()
    case.do(MEMBER, kind="return", reason="不属于本网格")
    assert (case.now().state, case.now().step) == (CaseState.RETURNED, Step.DISPATCH)
    case.do(DISPATCHER, kind="assign", assignee=TEAM.model_dump(), reason="转执法队")
    assert case.now().state is CaseState.DISPATCHED and case.now().assignee == TEAM
    assert "dispatched to 乔庄镇综合行政执法队, not to gm-1" in case.refused(MEMBER, kind="accept")
    case.do(OFFICER, kind="accept")
    assert case.now().state is CaseState.ACCEPTED


def test_people_without_the_role_or_outside_the_township_are_refused() -> None:
    case = Case()
    assert "not to gm-2" in case.refused(OTHER_MEMBER, kind="accept")
    assert "for the dispatcher or a leader" in case.refused(MEMBER, kind="cancel", reason="x")
    assert "does not serve township 510822100" in case.refused(FOREIGN_DISPATCHER, kind="cancel", reason="x")
    assert "only the system" in str(_refusal(case, _attach(case, actor=DISPATCHER)))


def test_cancel_and_reopen() -> None:
    case = Case()
    case.do(DISPATCHER, kind="cancel", reason="重复上报")
    assert case.now().state is CaseState.CANCELLED and not case.now().state.is_open
    case.do(DISPATCHER, kind="reopen", reason="并非重复")
    rec = case.now()
    assert (rec.state, rec.reopen_count, rec.closed_at) == (CaseState.DISPATCHED, 1, None)


def test_an_extension_moves_the_deadline_once_granted() -> None:
    case = Case()
    through_handling(case)
    due = case.now().due_at
    assert due is not None
    assert "later than the current deadline" in case.refused(
        MEMBER, kind="request_extension", until=due.isoformat(), reason="x"
    )
    assert "no extension is asked for" in case.refused(DISPATCHER, kind="decide_extension", granted=True)
    until = due + timedelta(days=3)
    case.do(MEMBER, kind="request_extension", until=until.isoformat(), reason="等待配件")
    assert "already asked for" in case.refused(MEMBER, kind="request_extension", until=until.isoformat(), reason="x")
    case.do(DISPATCHER, kind="decide_extension", granted=True, note="同意")
    rec = case.now()
    assert (rec.due_at, rec.step_due_at, rec.extension_count, rec.detail.extension) == (until, until, 1, None)


def test_a_refused_extension_keeps_the_deadline() -> None:
    case = Case()
    through_handling(case)
    due = case.now().due_at
    assert due is not None
    case.do(MEMBER, kind="request_extension", until=(due + timedelta(days=1)).isoformat(), reason="x")
    case.do(DISPATCHER, kind="decide_extension", granted=False, note="不同意")
    assert (case.now().due_at, case.now().extension_count) == (due, 0)


def _attach(case: Case, actor: Actor = SYSTEM, **event: Any) -> AttachEvent:
    body = event_body(**event)
    opened = decide(EVENT_ADAPTER.validate_python(body), snapshot(), case.clock)
    assert isinstance(opened, OpenCase)
    return AttachEvent(
        command_id=opened.command_id,
        case_id=case.now().id,
        issued_at=case.clock,
        actor=actor,
        source=opened.source,
        event=body,
    )


def _refusal(case: Case, cmd: CaseCommand) -> str:
    with pytest.raises(CommandRefused) as exc:
        case.run(cmd)
    return str(exc.value)


def test_a_duplicate_is_attached_and_can_be_split_off_again() -> None:
    case = Case()
    dup = _attach(case, reporter={"id": "gm-7", "name": "李四"})
    case.run(dup)
    assert case.now().event_count == 2 and case.now().reporters == ("gm-510822100201001", "gm-7")
    assert "already on this case" in _refusal(case, dup.model_copy(update={"command_id": uuid.uuid4()}))
    opening = case.now().detail.events[0].event_id
    assert "opened this case" in case.refused(DISPATCHER, kind="split", event_id=str(opening))
    out = case.do(DISPATCHER, kind="split", event_id=str(dup.source.event_id))
    assert out.republish == (dup.event,)
    assert case.now().event_count == 1 and case.now().reporters == ("gm-510822100201001",)


def test_merging_moves_the_events_to_the_other_case() -> None:
    case, target = Case(), uuid.uuid4()
    case.run(_attach(case))
    assert "into itself" in case.refused(DISPATCHER, kind="merge", into=str(case.now().id))
    out = case.do(DISPATCHER, kind="merge", into=str(target))
    assert case.now().state is CaseState.MERGED and case.now().merged_into == target
    assert [f.case_id for f in out.follow_ups] == [target, target]
    assert all(isinstance(f, AttachEvent) and f.from_case == case.now().id for f in out.follow_ups)


def test_the_clock_supervises_once_per_level_and_a_new_step_starts_afresh() -> None:
    case = Case()

    def supervise(level: int) -> Supervise:
        return Supervise(
            command_id=uuid.uuid4(),
            case_id=case.now().id,
            issued_at=case.clock,
            actor=SYSTEM,
            level=level,
            reason="overdue",
            notified=("gm-1", "lead-1"),
        )

    case.run(supervise(1))
    assert case.now().supervision_level == 1
    assert "already supervised at level 1" in _refusal(case, supervise(1))
    case.run(supervise(2))
    assert case.log[-1].payload["notified"] == ["gm-1", "lead-1"] and case.log[-1].payload["step"] == "accept"
    case.do(MEMBER, kind="accept")
    assert case.now().supervision_level == 0


def enforcement_case() -> Case:
    case = Case(enforcement=True)
    through_handling(case, OFFICER)
    return case


def stage(case: Case, name: str, **extra: Any) -> Outcome:
    body: dict[str, Any] = {"kind": "stage", "stage": name, "officers": ["off-1", "off-2"], "evidence": [PHOTO, DOC]}
    return case.do(OFFICER, **{**body, **extra})


def test_enforcement_stages_go_in_order_with_their_evidence() -> None:
    case = enforcement_case()
    assert "cannot start before file" in case.refused(OFFICER, kind="stage", stage="investigate", officers=["a", "b"])
    assert "at least 2 officers" in case.refused(OFFICER, kind="stage", stage="file", officers=["off-1"])
    assert "at least 1 document" in case.refused(
        OFFICER, kind="stage", stage="file", officers=["off-1", "off-2"], evidence=[PHOTO]
    )
    stage(case, "file")
    assert "at least 1 photo" in case.refused(
        OFFICER, kind="stage", stage="investigate", officers=["off-1", "off-2"], evidence=[DOC]
    )
    stage(case, "investigate")
    assert "needs the decision" in case.refused(
        OFFICER, kind="stage", stage="decide", officers=["off-1", "off-2"], evidence=[DOC]
    )
    stage(case, "decide", decision=SMALL_FINE)
    assert "enforcement stage serve is not recorded" in case.refused(
        OFFICER, kind="submit", summary="x", evidence=[DOC]
    )
    stage(case, "serve")
    stage(case, "archive")
    assert [s.stage.value for s in case.now().detail.stages] == ["file", "investigate", "decide", "serve", "archive"]
    case.do(OFFICER, kind="submit", summary="已结案归档", evidence=[DOC])
    assert case.now().state is CaseState.SUBMITTED


def test_a_major_decision_waits_for_an_approved_legal_review_by_someone_else() -> None:
    case = enforcement_case()
    stage(case, "file")
    stage(case, "investigate")
    assert "approved legal review" in case.refused(
        OFFICER, kind="stage", stage="decide", officers=["off-1", "off-2"], evidence=[DOC], decision=CLOSURE
    )
    assert "no legal review is pending" in case.refused(REVIEWER, kind="review", approved=True, opinion="同意")
    case.do(OFFICER, kind="request_review", decision=CLOSURE)
    assert "cannot review" in case.refused(OFFICER, kind="review", approved=True, opinion="同意")
    reviewing_officer = Actor(id="off-2", role=Role.LEGAL_REVIEWER, unit_code=TOWN)
    assert "handled this case" in case.refused(reviewing_officer, kind="review", approved=True, opinion="同意")
    case.do(REVIEWER, kind="review", approved=False, opinion="证据不足")
    assert "approved legal review" in case.refused(
        OFFICER, kind="stage", stage="decide", officers=["off-1", "off-2"], evidence=[DOC], decision=CLOSURE
    )
    case.do(OFFICER, kind="request_review", decision=CLOSURE)
    case.do(REVIEWER, kind="review", approved=True, opinion="事实清楚，证据充分，同意")
    other = {**CLOSURE, "measures": ["demolition"]}
    assert "differs from the one" in case.refused(
        OFFICER, kind="stage", stage="decide", officers=["off-1", "off-2"], evidence=[DOC], decision=other
    )
    stage(case, "decide", decision=CLOSURE)
    review = case.now().detail.review
    assert review is not None and (review.status, review.reviewer) == ("approved", "legal-1")


def test_grid_member_cases_have_no_enforcement_stages() -> None:
    case = Case()
    through_handling(case)
    assert "only cases of the enforcement team" in case.refused(
        MEMBER, kind="stage", stage="file", officers=["a", "b"], evidence=[DOC]
    )


ACTOR_FOR = {
    "accept": MEMBER,
    "return": MEMBER,
    "verify": MEMBER,
    "start": MEMBER,
    "submit": MEMBER,
    "request_extension": MEMBER,
    "stage": OFFICER,
    "request_review": OFFICER,
    "review": REVIEWER,
}
BODIES: dict[str, dict[str, Any]] = {
    "accept": {},
    "return": {"reason": "x"},
    "assign": {"assignee": TEAM.model_dump(), "reason": "x"},
    "verify": {"finding": "x"},
    "start": {},
    "submit": {"summary": "x", "evidence": [PHOTO]},
    "check": {"passed": True},
    "close": {},
    "cancel": {"reason": "x"},
    "reopen": {"reason": "x"},
    "merge": {"into": str(uuid.uuid4())},
    "split": {"event_id": str(uuid.uuid4())},
    "supervise": {"reason": "x"},
    "request_extension": {"until": "2030-01-01T00:00:00+08:00", "reason": "x"},
    "decide_extension": {"granted": True},
    "stage": {"stage": "file", "officers": ["a", "b"], "evidence": [DOC]},
    "request_review": {"decision": SMALL_FINE},
    "review": {"approved": True, "opinion": "x"},
}
ALLOWED = {
    "accept": {"dispatched"},
    "return": {"dispatched", "accepted", "verified", "in_progress"},
    "assign": {s.value for s in CaseState if s.is_open},
    "verify": {"accepted"},
    "start": {"verified"},
    "submit": {"in_progress"},
    "check": {"submitted"},
    "close": {"checked"},
    "cancel": {s.value for s in CaseState if s.is_open},
    "reopen": {"closed", "cancelled"},
    "merge": {s.value for s in CaseState if s.is_open},
    "split": {s.value for s in CaseState if s.is_open},
    "supervise": {s.value for s in CaseState if s.is_open},
    "request_extension": {"accepted", "verified", "in_progress"},
    "decide_extension": {s.value for s in CaseState if s.is_open},
    "stage": {"in_progress"},
    "request_review": {"in_progress"},
    "review": {"in_progress"},
}


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("kind", list(BODIES))
def test_every_command_in_every_state(kind: str, state: CaseState) -> None:
    case = Case()
    member_case = kind in ("accept", "return", "verify", "start", "submit", "request_extension")
    if not member_case:
        case.outcome = replace(case.outcome, case=replace(case.now(), assignee=TEAM))
    case.outcome = replace(case.outcome, case=replace(case.now(), state=state))
    actor = ACTOR_FOR.get(kind, DISPATCHER)
    try:
        case.do(actor, kind=kind, **BODIES[kind])
        refusal = None
    except CommandRefused as exc:
        refusal = str(exc)
    state_refusal = f"cannot {kind} a case that is {state.value}"
    if state.value in ALLOWED[kind]:
        assert refusal != state_refusal
    else:
        assert refusal == state_refusal


def test_a_command_body_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="extra"):
        BODY_ADAPTER.validate_python({"kind": "accept", "by": "someone"})
    with pytest.raises(ValueError, match="evidence"):
        COMMAND_ADAPTER.validate_python({"kind": "submit", "summary": "x", "evidence": []})
