"""The simulated people's choices, without I/O: outcomes drawn from the table (seeded, stable per case), and the
next move in each state for each outcome."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.people_plan import OUTCOMES, Memory, Move, Outcome, Wait, actors_of, delay_for, next_move, outcome_for

NOW = datetime(2026, 5, 1, 8, tzinfo=UTC)
GRACE = timedelta(minutes=15)
MEMBER = {"id": "gm-510822100001001", "kind": "grid_member", "name": "王伟"}
TEAM = {"id": "enf-510822100", "kind": "team", "name": "执法队"}


def case(state: str, assignee: dict[str, Any] = MEMBER, **fields: Any) -> dict[str, Any]:
    """A case view as GET /api/v1/cases gives it."""
    base = {
        "id": "5b0c7f3e-2f5e-4a53-9d38-0d3f6c1f2a11",
        "state": state,
        "assignee": assignee,
        "due_at": (NOW + timedelta(hours=48)).isoformat(),
        "step_due_at": (NOW + timedelta(minutes=60)).isoformat(),
        "supervision_level": 0,
        "rework_count": 0,
        "extension_until": None,
        "stages_done": [],
        "reporters": [],
    }
    return {**base, **fields}


def move(view: dict[str, Any], outcome: Outcome, memory: Memory | None = None) -> Move | Wait | None:
    """The next move at NOW."""
    return next_move(view, outcome, NOW, GRACE, memory or Memory(), seed=7)


def test_outcomes_follow_the_table_and_stay_the_same_for_a_case() -> None:
    ids = [str(uuid.UUID(int=n)) for n in range(4000)]
    drawn = Counter(outcome_for(i, 7) for i in ids)
    for name, weight in OUTCOMES.items():
        assert abs(drawn[Outcome(name)] / len(ids) - weight) < 0.03, drawn
    assert [outcome_for(i, 7) for i in ids[:50]] == [outcome_for(i, 7) for i in ids[:50]]
    assert [outcome_for(i, 8) for i in ids[:200]] != [outcome_for(i, 7) for i in ids[:200]]
    assert {outcome_for(i, 7, {"rework": 1.0}) for i in ids[:20]} == {Outcome.REWORK}


def test_delays_are_seeded_and_within_bounds() -> None:
    delays = [delay_for("c", v, 7, 2.0, 5.0) for v in range(100)]
    assert all(2.0 <= d <= 5.0 for d in delays) and len(set(delays)) == 100
    assert delay_for("c", 3, 7, 2.0, 5.0) == delays[3]


def test_on_time_case_walks_every_step_with_evidence_where_needed() -> None:
    assert move(case("dispatched"), Outcome.ON_TIME) == Move("assignee", {"kind": "accept"})
    verify = move(case("accepted"), Outcome.ON_TIME)
    assert isinstance(verify, Move) and verify.body["kind"] == "verify" and verify.evidence == ("photo",)
    assert isinstance(start := move(case("verified"), Outcome.ON_TIME), Move) and start.body["kind"] == "start"
    submit = move(case("in_progress"), Outcome.ON_TIME)
    assert isinstance(submit, Move) and submit.body["kind"] == "submit" and submit.evidence == ("photo",)
    check = move(case("submitted"), Outcome.ON_TIME)
    assert isinstance(check, Move) and check.who == "dispatcher" and check.body["passed"] is True
    assert move(case("checked"), Outcome.ON_TIME) == Move("dispatcher", {"kind": "close", "note": "办结销号"})
    assert move(case("returned"), Outcome.ON_TIME) is None


def test_the_reporter_never_verifies_their_own_case() -> None:
    assert move(case("accepted", reporters=[MEMBER["id"]]), Outcome.ON_TIME) is None


def test_an_overdue_case_waits_for_its_supervision_and_lingers_or_the_grace_after_its_deadline() -> None:
    accept = Move("assignee", {"kind": "accept"})
    assert isinstance(move(case("dispatched"), Outcome.OVERDUE), Wait)
    assert move(case("dispatched", supervision_level=1), Outcome.OVERDUE) == accept
    linger = timedelta(minutes=5)
    just_late = case("dispatched", supervision_level=1, step_due_at=(NOW - timedelta(minutes=1)).isoformat())
    assert isinstance(next_move(just_late, Outcome.OVERDUE, NOW, GRACE, Memory(), 7, linger), Wait)
    later = NOW + linger
    assert next_move(just_late, Outcome.OVERDUE, later, GRACE, Memory(), 7, linger) == accept
    long_ago = (NOW - GRACE - timedelta(minutes=1)).isoformat()
    assert move(case("dispatched", step_due_at=long_ago), Outcome.OVERDUE) == accept


def test_a_rework_case_fails_its_first_check_only() -> None:
    first = move(case("submitted"), Outcome.REWORK)
    assert isinstance(first, Move) and first.body["passed"] is False and first.body["note"]
    again = move(case("submitted", rework_count=1), Outcome.REWORK)
    assert isinstance(again, Move) and again.body["passed"] is True


def test_an_extension_is_asked_once_after_the_deadline_and_the_dispatcher_decides() -> None:
    memory = Memory()
    asked = move(case("verified"), Outcome.EXTENSION, memory)
    assert isinstance(asked, Move) and asked.body["kind"] == "request_extension"
    assert move(case("verified"), Outcome.EXTENSION, memory) == asked, "not issued yet: asked again"
    memory.issued(str(case("verified")["id"]), asked)
    assert datetime.fromisoformat(asked.body["until"]) == NOW + timedelta(hours=72)
    pending = move(case("verified", extension_until=asked.body["until"]), Outcome.EXTENSION, memory)
    assert isinstance(pending, Move) and pending.who == "dispatcher" and pending.body["kind"] == "decide_extension"
    then = move(case("verified"), Outcome.EXTENSION, memory)
    assert isinstance(then, Move) and then.body["kind"] == "start"


def test_enforcement_cases_record_their_five_stages_by_two_officers_before_submitting() -> None:
    kinds = []
    for done in range(5):
        step = move(case("in_progress", TEAM, stages_done=["x"] * done), Outcome.ON_TIME)
        assert isinstance(step, Move) and step.officers and step.evidence == ("photo", "document")
        kinds.append(step.body["stage"])
    assert kinds == ["file", "investigate", "decide", "serve", "archive"]
    submit = move(case("in_progress", TEAM, stages_done=["x"] * 5), Outcome.ON_TIME)
    assert isinstance(submit, Move) and submit.body["kind"] == "submit"
    assert actors_of(TEAM) == ("off-510822100-1", "off-510822100-2")
    assert actors_of({"id": "market-510822100", "kind": "agency"}) == ("market-510822100-1", None)
    assert actors_of(MEMBER) == (MEMBER["id"], None)
