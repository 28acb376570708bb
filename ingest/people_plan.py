"""What the simulated people do next on a case: a seeded outcome per case, drawn from a table of probabilities, and
the next move it implies in the case's state. Pure logic, no I/O (the loop is ingest/people_sim.py)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How a case's life goes."""

    ON_TIME = "on_time"  # every step well within its deadline
    OVERDUE = "overdue"  # the assignee sits on it until the clock supervises it (督办), then acts
    REWORK = "rework"  # the dispatcher's first check fails (返工)
    EXTENSION = "extension"  # the assignee asks for more time (延期); the dispatcher decides


OUTCOMES: dict[str, float] = {"on_time": 0.8, "overdue": 0.08, "rework": 0.07, "extension": 0.05}
GRANT_RATE = 0.8
STAGES = ("file", "investigate", "decide", "serve", "archive")
FINE = {
    "party_kind": "person",
    "party_name": "王小明",
    "violation": "占道经营",
    "legal_basis": "《城市市容和环境卫生管理条例》第十四条",
    "measures": ["fine"],
    "fine_yuan": 200,
}


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def outcome_for(case_id: str, seed: int, table: Mapping[str, float] = OUTCOMES) -> Outcome:
    """The case's outcome, the same for the same case and seed (so a restarted simulator keeps its plans)."""
    names = [Outcome(name) for name in table]
    return _rng(seed, case_id).choices(names, weights=[table[n.value] for n in names])[0]


def delay_for(case_id: str, version: int, seed: int, low: float, high: float) -> float:
    """Seconds a person takes before the next step on this version of the case."""
    return _rng(seed, case_id, version).uniform(low, high)


def grants(case_id: str, seed: int) -> bool:
    """Whether the dispatcher grants the case's extension."""
    return _rng(seed, case_id, "grant").random() < GRANT_RATE


@dataclass(frozen=True)
class Move:
    """One command by one person: `who` is `assignee` (the person acting for the assignee), `partner` (a second
    officer) or `dispatcher`; `evidence` names the kinds of media to upload and cite."""

    who: str
    body: dict[str, Any]
    evidence: tuple[str, ...] = ()
    officers: bool = False


@dataclass(frozen=True)
class Wait:
    """Nothing yet: the overdue case waits for its 督办."""

    reason: str = "waiting for 督办"


@dataclass
class Memory:
    """What the simulator remembers of a case beyond its view (asked for an extension already)."""

    asked_extension: set[str] = field(default_factory=set)

    def issued(self, case_id: str, move: Move) -> None:
        """Remember a move that was issued."""
        if move.body["kind"] == "request_extension":
            self.asked_extension.add(case_id)


def next_move(
    case: Mapping[str, Any],
    outcome: Outcome,
    now: datetime,
    grace: timedelta,
    memory: Memory,
    seed: int,
    linger: timedelta = timedelta(0),
) -> Move | Wait | None:
    """The next command on the case as the people would issue it, Wait, or None when nobody simulated acts. An
    overdue case is accepted once supervised and `linger` past its deadline, or `grace` past it in any case."""
    cid = str(case["id"])
    if case.get("extension_until"):
        note = "同意延期" if grants(cid, seed) else "不同意延期，请按期办结"
        return Move("dispatcher", {"kind": "decide_extension", "granted": grants(cid, seed), "note": note})
    state = case["state"]
    if state == "dispatched":
        return _accept(case, outcome, now, (linger, grace))
    if state == "accepted":
        if case["assignee"]["id"] in case.get("reporters", ()):
            return None
        return Move("assignee", {"kind": "verify", "finding": "现场核实，情况属实"}, ("photo",))
    if state == "verified":
        if outcome is Outcome.EXTENSION and cid not in memory.asked_extension and case.get("due_at"):
            until = datetime.fromisoformat(str(case["due_at"])) + timedelta(hours=24)
            body = {"kind": "request_extension", "until": until.isoformat(), "reason": "需协调相关部门，申请延期一天"}
            return Move("assignee", body)
        return Move("assignee", {"kind": "start", "note": "已到场处置"})
    if state == "in_progress":
        return _handle(case)
    if state == "submitted":
        if outcome is Outcome.REWORK and not case.get("rework_count"):
            return Move("dispatcher", {"kind": "check", "passed": False, "note": "现场仍有遗留，请返工"})
        return Move("dispatcher", {"kind": "check", "passed": True, "note": "核查通过"})
    if state == "checked":
        return Move("dispatcher", {"kind": "close", "note": "办结销号"})
    return None


def _accept(
    case: Mapping[str, Any], outcome: Outcome, now: datetime, after: tuple[timedelta, timedelta]
) -> Move | Wait:
    if outcome is not Outcome.OVERDUE:
        return Move("assignee", {"kind": "accept"})
    due = datetime.fromisoformat(str(case["step_due_at"])) if case.get("step_due_at") else now
    linger, grace = after
    lingered = not linger or now >= due + linger  # no linger: at once (the processors' clock may run ahead)
    if (case.get("supervision_level") and lingered) or now > due + grace:
        return Move("assignee", {"kind": "accept"})
    return Wait()


def _handle(case: Mapping[str, Any]) -> Move:
    if case["assignee"]["kind"] == "team":
        done = len(case.get("stages_done") or ())
        if done < len(STAGES):
            stage = STAGES[done]
            body: dict[str, Any] = {"kind": "stage", "stage": stage, "note": "执法全过程记录"}
            if stage == "decide":
                body["decision"] = FINE
            return Move("assignee", body, ("photo", "document"), officers=True)
    evidence = ("photo", "document") if case["assignee"]["kind"] == "team" else ("photo",)
    return Move("assignee", {"kind": "submit", "summary": "已处置完毕，现场已恢复"}, evidence)


def actors_of(assignee: Mapping[str, Any]) -> tuple[str, str | None]:
    """The person acting for an assignee, and a second officer, by the demo registry's naming: a grid member or
    duty post acts as themselves; team `enf-T` by officers `off-T-1` and `off-T-2`; agency `K-T` by `K-T-1`."""
    ident = str(assignee["id"])
    if assignee["kind"] == "team" and ident.startswith("enf-"):
        town = ident.removeprefix("enf-")
        return f"off-{town}-1", f"off-{town}-2"
    if assignee["kind"] == "agency":
        return f"{ident}-1", None
    return ident, None
