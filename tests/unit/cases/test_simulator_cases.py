"""Every case the built-in simulator opens, routed by the demo county's rules under either self-report policy, is
driven to 办结销号 by the people the case names: its assignee (a grid member, the duty post, an enforcement team's
officers or an agency's staff) and the township's dispatcher; nobody verifies their own report."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.cases import BODY_ADAPTER, Actor, Assignee, OpenCase
from core.events import EVENT_ADAPTER
from core.vocabulary import CaseState, PartyKind, Role, SelfReport, Severity
from dispatch.cases.issue import command_from_body
from dispatch.cases.machine import CaseRecord, LogEntry, apply
from dispatch.registry.demo import COUNTY_RULES
from dispatch.routing.decision import decide
from dispatch.routing.model import Party, RoutingRule
from dispatch.routing.rules import RuleBook
from dispatch.routing.self_report import SelfReportBook
from ingest.simulator import SCENES, make_event
from tests.unit.factories import COUNTY, TOWN, VILLAGE, grid, snapshot

GRID = f"{VILLAGE}001"
DISPATCHER = Actor(id="disp-1", role=Role.DISPATCHER, unit_code=TOWN)
DOC = {"sha256": "b" * 64, "kind": "document"}
PHOTO = {"sha256": "a" * 64, "kind": "photo"}
FINE = {
    "party_kind": "person",
    "party_name": "王小明",
    "violation": "占道经营",
    "legal_basis": "条例",
    "measures": ["fine"],
    "fine_yuan": 200,
}
SHOT = {"sha256": "c" * 64, "content_type": "image/jpeg", "size": 10}


class Scene(random.Random):
    """A random source that makes the simulator pick one given scene."""

    def __init__(self, scene: tuple[str, str, str, str]) -> None:
        super().__init__(7)
        self.scene = scene

    def choice(self, seq: Any) -> Any:
        """The scene, whatever the choice is among."""
        return self.scene


def demo_snapshot(policy: SelfReport) -> Any:
    """The unit-test township with the demo county's rules, its grid's member named as the simulator names them."""
    rules = [
        RoutingRule(
            id=n,
            unit_code=COUNTY,
            position=r.position,
            target=PartyKind(r.target),
            sla_hours=r.sla_hours,
            event_type=r.event_type,
            category=r.category,
            min_severity=Severity(r.min_severity) if r.min_severity else None,
            agency_type=r.agency_type,
            priority=Severity(r.priority) if r.priority else None,
        )
        for n, r in enumerate(COUNTY_RULES, start=1)
    ]
    base = snapshot()
    agencies = {(TOWN, t): Party(PartyKind.AGENCY, f"{t}-1", t, t) for t in ("market", "police", "justice")}
    directory = replace(
        base.directory,
        grid_members={GRID: Party(PartyKind.GRID_MEMBER, f"gm-{GRID}", "王伟")},
        agencies=agencies,
    )
    return replace(base, book=RuleBook(rules), directory=directory, self_report=SelfReportBook({COUNTY: policy}))


def people_of(assignee: Assignee) -> list[Actor]:
    """Who acts for the assignee: the person, or two members of the team."""
    if assignee.kind is PartyKind.GRID_MEMBER:
        role = Role.DUTY if assignee.id.startswith("duty-") else Role.GRID_MEMBER
        return [Actor(id=assignee.id, role=role, unit_code=TOWN)]
    role = Role.OFFICER if assignee.kind is PartyKind.ENFORCEMENT else Role.AGENCY_STAFF
    return [Actor(id=f"{assignee.id}-{n}", role=role, unit_code=TOWN, team_id=assignee.id) for n in (1, 2)]


class Driver:
    """Applies people's commands to one case, keeping its log."""

    def __init__(self, opened: OpenCase) -> None:
        self.clock = opened.issued_at
        outcome = apply(None, opened)
        self.case: CaseRecord = outcome.case
        self.log: list[LogEntry] = list(outcome.entries)

    def do(self, actor: Actor, **body: Any) -> None:
        """A person's command, a minute after the last."""
        self.clock += timedelta(minutes=1)
        cmd = command_from_body(BODY_ADAPTER.validate_python(body), self.case.id, actor, self.clock, uuid.uuid4())
        outcome = apply(self.case, cmd, self.log[-1].hash)
        self.case = outcome.case
        self.log.extend(outcome.entries)


def drive_to_closed(case: Driver) -> None:
    """Accept, verify where it is still to do, handle (with the enforcement stages), submit; check and close."""
    assert case.case.assignee is not None
    first, *others = people_of(case.case.assignee)
    case.do(first, kind="accept")
    if case.case.state is CaseState.ACCEPTED:
        case.do(first, kind="verify", finding="现场核实属实", evidence=[PHOTO])
    case.do(first, kind="start")
    if case.case.enforcement:
        officers = [first.id, others[0].id]
        for name in ("file", "investigate", "decide", "serve", "archive"):
            extra = {"decision": FINE} if name == "decide" else {}
            case.do(first, kind="stage", stage=name, officers=officers, evidence=[PHOTO, DOC], **extra)
    case.do(first, kind="submit", summary="已处置完毕", evidence=[PHOTO, DOC])
    case.do(DISPATCHER, kind="check", passed=True)
    case.do(DISPATCHER, kind="close", note="办结销号")


@pytest.mark.parametrize("policy", list(SelfReport))
@pytest.mark.parametrize("scene", [s for s in SCENES if s[0] != "patrol"], ids=lambda s: f"{s[0]}-{s[1]}-{s[2]}")
def test_every_simulated_case_closes_through_the_people_it_names(
    scene: tuple[str, str, str, str], policy: SelfReport
) -> None:
    ref, geom = grid(GRID, 105.0)
    feature = {"properties": {"code": ref.code, "member_name": "王伟"}}
    body = make_event(feature, geom, Scene(scene))
    body["media"] = [SHOT]
    now = datetime.fromisoformat(body["reported_at"]).astimezone(UTC)
    opened = decide(EVENT_ADAPTER.validate_python(body), demo_snapshot(policy), now)
    assert isinstance(opened, OpenCase), opened
    case = Driver(opened)
    drive_to_closed(case)
    assert case.case.state is CaseState.CLOSED
    verified = next(e for e in case.log if e.kind == "verified")
    assert verified.actor.id not in case.case.reporters
    if body["reporter"]["id"] == opened.assignee.id:
        assert verified.actor.id == "system:self-report" and verified.payload["evidence"][0]["sha256"] == "c" * 64
