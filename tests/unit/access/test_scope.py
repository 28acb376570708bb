"""Who sees which case: the live channel's predicate per role, and the removal notice when a case leaves reach."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from core.case_views import CaseView
from core.cases import Assignee
from core.vocabulary import CaseState, PartyKind, Role, Severity
from dispatch.access.scope import Scope
from web.hub import LiveClient, LiveMessage

TOWN, OTHER = "510822100", "510822101"
GRID = f"{TOWN}201001"


def case(
    township: str = TOWN, grid: str = GRID, kind: PartyKind = PartyKind.GRID_MEMBER, who: str = "gm-1"
) -> CaseView:
    now = datetime.now(UTC)
    return CaseView(
        id=uuid.uuid4(),
        version=1,
        state=CaseState.DISPATCHED,
        category="0199",
        priority=Severity.NORMAL,
        event_type="incident",
        description="垃圾",
        grid_code=grid,
        grid_name="一网格",
        township_code=township,
        township_name="乔庄镇",
        assignee=Assignee(kind=kind, id=who, name="某人"),
        lon=105.0,
        lat=32.0,
        opened_at=now,
        due_at=None,
        updated_at=now,
        event_count=1,
    )


DISPATCHER = Scope("d", Role.DISPATCHER, TOWN, "disp-1")
SUPERVISOR = Scope("s", Role.COUNTY_SUPERVISOR, "510822", "sup-1")
OFFICER = Scope("o", Role.OFFICER, TOWN, "off-1", f"enf-{TOWN}")
AGENCY = Scope("p", Role.AGENCY_STAFF, TOWN, "police-1", f"police-{TOWN}")
MEMBER = Scope("m", Role.GRID_MEMBER, GRID, "gm-1", grids=frozenset({GRID}))
DUTY = Scope("v", Role.DUTY, f"{TOWN}201", "duty-1")
GATEWAY = Scope("g", Role.SYSTEM, "510822")
ADMIN = Scope("a", Role.ADMIN, "510822")


@pytest.mark.parametrize(
    ("scope", "visible", "hidden"),
    [
        (DISPATCHER, case(), case(township=OTHER)),
        (SUPERVISOR, case(township=OTHER), case(township="510823100")),
        (OFFICER, case(kind=PartyKind.ENFORCEMENT, who=f"enf-{TOWN}"), case()),
        (
            AGENCY,
            case(kind=PartyKind.AGENCY, who=f"police-{TOWN}"),
            case(kind=PartyKind.ENFORCEMENT, who=f"enf-{TOWN}"),
        ),
        (MEMBER, case(who="gm-2"), case(grid=f"{TOWN}201002", who="gm-2")),
        (MEMBER, case(grid=f"{OTHER}201001", who="gm-1"), case(grid=f"{OTHER}201001", who="gm-9")),
        (DUTY, case(grid=f"{TOWN}201009", who="gm-9"), case(grid=f"{TOWN}202001", who="gm-9")),
        (ADMIN, case(township="440300001"), None),
        (GATEWAY, None, case()),
    ],
    ids=["dispatcher", "supervisor", "officer", "agency", "member-grid", "member-assignee", "duty", "admin", "gateway"],
)
def test_each_role_sees_its_own_cases(scope: Scope, visible: CaseView | None, hidden: CaseView | None) -> None:
    if visible is not None:
        assert scope.sees(visible)
    if hidden is not None:
        assert not scope.sees(hidden)


def test_field_workers_follow_the_cases_they_reported_anywhere() -> None:
    elsewhere = case(township=OTHER, grid=f"{OTHER}201001", who="gm-9")
    assert not MEMBER.sees(elsewhere)
    assert MEMBER.sees(elsewhere.model_copy(update={"reporters": ("gm-1",)}))
    assert not DISPATCHER.sees(elsewhere.model_copy(update={"reporters": ("disp-1",)}))


def test_areas_are_code_prefixes() -> None:
    assert (DISPATCHER.area, SUPERVISOR.area, MEMBER.area, ADMIN.area, GATEWAY.area) == (
        TOWN,
        "510822",
        TOWN,
        "",
        "510822",
    )


def test_case_sql_appends_its_parameters_after_the_callers() -> None:
    args: list[object] = ["first"]
    assert DISPATCHER.case_sql(args, alias="c") == "starts_with(c.township_code, $2)"
    assert args == ["first", TOWN]
    assert GATEWAY.case_sql([]) == "FALSE" and ADMIN.case_sql([]) == "TRUE"


def test_a_case_that_leaves_reach_is_announced_as_removed_once() -> None:
    client = LiveClient(10, DISPATCHER)
    here = case()
    gone = here.model_copy(update={"township_code": OTHER, "version": 2})
    client.offer(LiveMessage("in", case=here))
    client.offer(LiveMessage("moved", case=gone))
    client.offer(LiveMessage("again", case=gone.model_copy(update={"version": 3})))
    client.offer(LiveMessage("other", case=case(township=OTHER)))
    texts = [client._queue.get_nowait() for _ in range(client._queue.qsize())]
    assert texts[0] == "in"
    assert orjson.loads(texts[1]) == {"type": "case_removed", "case_id": str(here.id), "version": 2}
    assert len(texts) == 2


def test_queue_and_position_notices_reach_only_the_command_centre_of_their_area() -> None:
    desk, phone, admin = LiveClient(10, DISPATCHER), LiveClient(10, MEMBER), LiveClient(10, ADMIN)
    for client in (desk, phone, admin):
        client.offer(LiveMessage("u", queue="unrouted", region=GRID[:12]))
        client.offer(LiveMessage("u-there", queue="unrouted", region=f"{OTHER}201"))
        client.offer(LiveMessage("u-nowhere", queue="unrouted"))
        client.offer(LiveMessage("d", queue="deadletter"))
        client.offer(LiveMessage("p-here", region=GRID))
        client.offer(LiveMessage("p-there", region=f"{OTHER}201001"))
    assert [desk._queue.get_nowait() for _ in range(desk._queue.qsize())] == ["u", "p-here"]
    assert phone._queue.qsize() == 0
    everything = ["u", "u-there", "u-nowhere", "d", "p-here", "p-there"]
    assert [admin._queue.get_nowait() for _ in range(admin._queue.qsize())] == everything
