"""Which notices a case's log entries stand for: kind, audience and words, per entry; nothing for the rest."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from core.cases import Supervise
from core.vocabulary import Role
from dispatch.cases.machine import CaseRecord, LogEntry, Outcome
from dispatch.cases.notices import NoticeDraft, deadline_notice, notices_for
from tests.unit.cases.test_machine import (
    DISPATCHER,
    MEMBER,
    OFFICER,
    SMALL_FINE,
    SYSTEM,
    Case,
    stage,
    through_handling,
)
from tests.unit.factories import TOWN


def drafts(before: CaseRecord | None, outcome: Outcome) -> list[NoticeDraft]:
    """The notices of every entry one command wrote."""
    return [n for e in outcome.entries for n in notices_for(e, before, outcome.case)]


def step(case: Case, actor: Any, **body: Any) -> list[NoticeDraft]:
    """Apply a person's command and derive its notices."""
    before = case.now()
    return drafts(before, case.do(actor, **body))


def test_opening_a_case_tells_its_grid_member_of_the_dispatch() -> None:
    case = Case()
    found = drafts(None, case.outcome)
    assert [(n.kind, n.audience, n.township_code) for n in found] == [("dispatched", (("person", "gm-1"),), TOWN)]
    dispatched = next(e for e in case.log if e.kind == "dispatched")
    assert found[0].source == f"log:{dispatched.seq}" and found[0].case_id == case.now().id
    assert found[0].text_zh.startswith("新派遣：") and "垃圾堆放" in found[0].text_zh
    assert found[0].text_en.startswith("New dispatch: ")


def test_a_team_dispatch_reaches_every_member_of_the_team() -> None:
    case = Case(enforcement=True)
    assert [n.audience for n in drafts(None, case.outcome)] == [(("team", "enf-1"),)]


def test_a_return_goes_to_the_townships_dispatchers_with_the_reason() -> None:
    case = Case()
    found = step(case, MEMBER, kind="return", reason="不属于本网格")
    assert [(n.kind, n.audience) for n in found] == [("returned", (("role", Role.DISPATCHER),))]
    assert "不属于本网格" in found[0].text_zh and found[0].actor_id == "gm-1"


def test_a_supervision_reaches_the_people_it_names_at_its_level() -> None:
    case = Case()
    command = Supervise(
        command_id=uuid.uuid4(),
        case_id=case.now().id,
        issued_at=case.clock + timedelta(hours=3),
        actor=SYSTEM,
        level=2,
        reason="step accept overdue",
        notified=("gm-1", "lead-1", "sup-1"),
    )
    before = case.now()
    found = drafts(before, case.run(command))
    assert found[0].kind == "supervised"
    assert found[0].audience == (("person", "gm-1"), ("person", "lead-1"), ("person", "sup-1"))
    assert "县级" in found[0].text_zh and "county" in found[0].text_en


def test_a_supervision_of_a_team_case_reaches_the_team() -> None:
    case = Case(enforcement=True)
    command = Supervise(
        command_id=uuid.uuid4(),
        case_id=case.now().id,
        issued_at=case.clock + timedelta(hours=3),
        actor=SYSTEM,
        level=1,
        reason="step accept overdue",
        notified=("enf-1", "lead-1"),
    )
    before = case.now()
    found = drafts(before, case.run(command))
    assert found[0].audience == (("person", "enf-1"), ("person", "lead-1"), ("team", "enf-1"))
    assert "乡镇级" in found[0].text_zh and "township" in found[0].text_en


def test_a_review_request_goes_to_the_legal_reviewers() -> None:
    case = Case(enforcement=True)
    through_handling(case, OFFICER)
    stage(case, "file")
    stage(case, "investigate")
    found = step(case, OFFICER, kind="request_review", decision=SMALL_FINE)
    assert [(n.kind, n.audience) for n in found] == [("review_requested", (("role", Role.LEGAL_REVIEWER),))]
    assert found[0].text_zh.startswith("法制审核申请")


def test_an_extension_request_goes_to_dispatchers_and_the_decision_to_who_asked() -> None:
    case = Case()
    through_handling(case)
    asked = step(
        case, MEMBER, kind="request_extension", until=(case.clock + timedelta(days=5)).isoformat(), reason="等"
    )
    assert [(n.kind, n.audience) for n in asked] == [("extension_requested", (("role", Role.DISPATCHER),))]
    decided = step(case, DISPATCHER, kind="decide_extension", granted=False, note="不批")
    assert [(n.kind, n.audience, n.text_zh[:5]) for n in decided] == [
        ("extension_decided", (("person", "gm-1"),), "延期未批准")
    ]


def test_the_steps_of_the_handling_itself_notify_nobody() -> None:
    case = Case()
    quiet: list[NoticeDraft] = []
    for body in (
        {"kind": "accept"},
        {"kind": "verify", "finding": "属实", "evidence": [{"sha256": "a" * 64, "kind": "photo"}]},
        {"kind": "start"},
    ):
        quiet += step(case, MEMBER, **body)
    assert quiet == []


def test_a_replayed_entry_derives_the_same_notice_so_the_unique_key_keeps_one() -> None:
    case = Case()
    entry: LogEntry = next(e for e in case.log if e.kind == "dispatched")
    assert notices_for(entry, None, case.now()) == notices_for(entry, None, case.now())


def test_the_clock_warns_the_assignee_once_per_step_and_deadline() -> None:
    case = Case()
    due = case.now().step_due_at
    assert due is not None
    warning = deadline_notice(case.now().id, TOWN, {"kind": "grid_member", "id": "gm-1"}, "accept", due, 12, "垃圾")
    assert warning.kind == "deadline" and warning.audience == (("person", "gm-1"),)
    assert warning.source == f"deadline:accept:{due.isoformat()}"
    assert "签收还剩约12分钟" in warning.text_zh and "12 min" in warning.text_en
    team = deadline_notice(case.now().id, TOWN, {"kind": "team", "id": "enf-1"}, "handle", due, 5, "x")
    assert team.audience == (("team", "enf-1"),)
