"""Self-reported cases and the moves that unstick a case: the reporter's report as verification, the duty post,
handing a case back after accepting it, and the dispatcher's reassignment and transfer in any open state."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from core.cases import Assignee, TransferCase
from core.vocabulary import CaseState, PartyKind, SelfReport, Step
from dispatch.cases.machine import evolve
from tests.unit.cases.test_machine import DISPATCHER, MEMBER, OTHER_MEMBER, PHOTO, TEAM, Case, through_handling

OWN = {"id": "gm-1", "name": "王伟"}
SHOT = {"sha256": "c" * 64, "content_type": "image/jpeg", "size": 2048}
OTHER = Assignee(kind=PartyKind.GRID_MEMBER, id="gm-2", name="李娜")


def own_case(policy: SelfReport | None, **event: Any) -> Case:
    """A case its assignee gm-1 reported, opened under `policy`."""
    case = Case(reporter=OWN, **event)
    case.outcome = replace(
        case.outcome, case=replace(case.now(), detail=case.now().detail.model_copy(update={"self_report": policy}))
    )
    return case


def test_under_reporter_report_accepting_ones_own_report_records_the_system_verification_with_its_photos() -> None:
    case = own_case(SelfReport.REPORTER_REPORT, media=[SHOT])
    case.do(MEMBER, kind="accept")
    rec = case.now()
    assert (rec.state, rec.step, rec.step_due_at) == (CaseState.VERIFIED, Step.HANDLE, rec.due_at)
    accepted, verified = case.log[-2:]
    assert (accepted.kind, accepted.actor.id) == ("accepted", "gm-1")
    assert (verified.kind, verified.actor.id, verified.actor.role) == ("verified", "system:self-report", "system")
    assert verified.payload["basis"] == "reporter_report" and verified.payload["reporter"] == "gm-1"
    assert "快速核查" in verified.payload["finding"]
    assert verified.payload["evidence"] == [
        {"sha256": "c" * 64, "kind": "photo", "caption": "上报照片 (the report's photo)"}
    ]
    case.do(MEMBER, kind="start")
    case.do(MEMBER, kind="submit", summary="已清运", evidence=[PHOTO])
    case.do(DISPATCHER, kind="check", passed=True)
    case.do(DISPATCHER, kind="close")
    assert case.now().state is CaseState.CLOSED


def test_the_policy_is_written_in_the_log_so_folding_it_gives_the_same_case() -> None:
    case = Case(reporter=OWN)
    assert case.log[0].payload["self_report"] == "reporter_report"
    case.do(MEMBER, kind="accept")
    folded = None
    for entry in case.log:
        folded = evolve(folded, entry)
    assert folded == case.now() and folded.state is CaseState.VERIFIED


@pytest.mark.parametrize("policy", [SelfReport.DUTY_POST, None])
def test_without_reporter_report_the_reporter_still_cannot_verify(policy: SelfReport | None) -> None:
    case = own_case(policy)
    case.do(MEMBER, kind="accept")
    assert case.now().state is CaseState.ACCEPTED
    assert "reported this case and cannot verify it" in case.refused(MEMBER, kind="verify", finding="属实")


def test_reporter_report_applies_only_to_the_reporter_accepting() -> None:
    case = Case()  # reported by someone else, dispatched to gm-1
    case.do(MEMBER, kind="accept")
    assert case.now().state is CaseState.ACCEPTED and case.log[-1].kind == "accepted"


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_after_accepting_the_assignee_can_hand_the_case_back_with_a_reason(steps: int) -> None:
    case = Case()
    for body in ({"kind": "accept"}, {"kind": "verify", "finding": "属实", "evidence": [PHOTO]}, {"kind": "start"})[
        :steps
    ]:
        case.do(MEMBER, **body)
    case.do(MEMBER, kind="return", reason="本人无法处置，需执法队")
    rec = case.now()
    assert (rec.state, rec.step) == (CaseState.RETURNED, Step.DISPATCH)
    assert case.log[-1].payload["reason"] == "本人无法处置，需执法队"
    assert "cannot return a case that is returned" in case.refused(MEMBER, kind="return", reason="再退")


def test_only_the_assignee_hands_a_case_back() -> None:
    case = Case()
    case.do(MEMBER, kind="accept")
    assert "not to gm-2" in case.refused(OTHER_MEMBER, kind="return", reason="x")


def test_a_submitted_case_cannot_be_handed_back() -> None:
    case = Case()
    through_handling(case)
    case.do(MEMBER, kind="submit", summary="已处理", evidence=[PHOTO])
    assert "cannot return a case that is submitted" in case.refused(MEMBER, kind="return", reason="x")


@pytest.mark.parametrize("state", [s for s in CaseState if s.is_open])
def test_the_dispatcher_reassigns_in_any_open_state_and_the_new_assignee_starts_by_accepting(state: CaseState) -> None:
    case = Case()
    case.outcome = replace(case.outcome, case=replace(case.now(), state=state))
    case.do(DISPATCHER, kind="assign", assignee=OTHER.model_dump(), reason="改派")
    rec = case.now()
    assert (rec.state, rec.step, rec.assignee) == (CaseState.DISPATCHED, Step.ACCEPT, OTHER)
    case.do(OTHER_MEMBER, kind="accept")
    assert case.now().state is CaseState.ACCEPTED


@pytest.mark.parametrize("state", [s for s in CaseState if not s.is_open])
def test_a_finished_case_is_not_reassigned(state: CaseState) -> None:
    case = Case()
    case.outcome = replace(case.outcome, case=replace(case.now(), state=state))
    assert f"cannot assign a case that is {state.value}" in case.refused(
        DISPATCHER, kind="assign", assignee=OTHER.model_dump(), reason="x"
    )


def test_a_dispatchers_transfer_keeps_the_state_and_the_clock() -> None:
    case = Case()
    case.do(MEMBER, kind="accept")
    before = case.now()
    case.run(
        TransferCase(
            command_id=uuid.uuid4(),
            case_id=before.id,
            issued_at=case.clock,
            actor=DISPATCHER,
            grid_code="510822100201002",
            grid_name="网格002",
            village_code="510822100201",
            township_code="510822100",
            township_name="乔庄镇",
            assignee=OTHER,
            reason="转隔壁网格",
        )
    )
    rec = case.now()
    assert (rec.state, rec.step_due_at, rec.grid_code, rec.assignee) == (
        CaseState.ACCEPTED,
        before.step_due_at,
        "510822100201002",
        OTHER,
    )
    case.do(OTHER_MEMBER, kind="verify", finding="属实", evidence=[PHOTO])
    assert case.now().state is CaseState.VERIFIED


def test_a_member_cannot_transfer() -> None:
    case = Case()
    command = TransferCase(
        command_id=uuid.uuid4(),
        case_id=case.now().id,
        issued_at=case.clock,
        actor=MEMBER,
        grid_code="510822100201002",
        grid_name="网格002",
        village_code="510822100201",
        township_code="510822100",
        township_name="乔庄镇",
        assignee=TEAM,
        reason="x",
    )
    with pytest.raises(Exception, match="it is for the dispatcher or a leader"):
        case.run(command)
