"""The 督办 board's derivation: titles, minutes overdue, counts per township and level, the most urgent first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.case_views import CaseView
from core.cases import Assignee
from core.vocabulary import CaseState, PartyKind, Severity, Step
from dispatch.cases.board import build_board, overdue_minutes, title_of

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TOWN, OTHER, QUIET = "510822100", "510822101", "510822102"


def case(town: str = TOWN, level: int = 0, late_minutes: float = 30, description: str = "垃圾堆放") -> CaseView:
    return CaseView(
        id=uuid.uuid4(),
        version=3,
        state=CaseState.DISPATCHED,
        category="0102",
        priority=Severity.NORMAL,
        event_type="incident",
        description=description,
        grid_code=f"{town}201001",
        grid_name="一网格",
        township_code=town,
        township_name={TOWN: "乔庄镇", OTHER: "青溪镇"}[town],
        assignee=Assignee(kind=PartyKind.GRID_MEMBER, id="gm-1", name="王芳"),
        lon=105.0,
        lat=32.0,
        opened_at=NOW - timedelta(hours=3),
        due_at=None,
        updated_at=NOW,
        event_count=1,
        step=Step.ACCEPT,
        step_due_at=NOW - timedelta(minutes=late_minutes),
        supervision_level=level,
    )


def test_a_title_is_the_first_line_cut_short() -> None:
    assert title_of("\n  路灯损坏  \n第二行") == "路灯损坏"
    long = "占道经营" * 20
    assert len(title_of(long)) == 40 and title_of(long).endswith("…")
    assert title_of("") == ""


def test_minutes_overdue_count_whole_minutes_and_none_while_on_time() -> None:
    assert overdue_minutes(NOW - timedelta(minutes=90, seconds=59), NOW) == 90
    assert overdue_minutes(NOW + timedelta(minutes=1), NOW) is None
    assert overdue_minutes(NOW, NOW) is None
    assert overdue_minutes(None, NOW) is None


def test_townships_count_cases_by_level_and_list_the_most_urgent_first() -> None:
    cases = [
        case(level=1, late_minutes=20),
        case(level=0, late_minutes=200),
        case(level=2, late_minutes=130),
        case(level=1, late_minutes=70),
        case(OTHER, level=3, late_minutes=400),
    ]
    counts = [(TOWN, "乔庄镇", 0, 1), (TOWN, "乔庄镇", 1, 2), (TOWN, "乔庄镇", 2, 1), (OTHER, "青溪镇", 3, 1)]
    towns = [(TOWN, "乔庄镇"), (OTHER, "青溪镇"), (QUIET, "房石镇")]
    board = build_board(towns, counts, cases, NOW)
    assert [t.township_code for t in board.townships] == [OTHER, TOWN, QUIET]
    mine = board.townships[1]
    assert (mine.level_1, mine.level_2, mine.level_3, mine.overdue_unsupervised, mine.total) == (2, 1, 0, 1, 4)
    assert [(c.level, c.overdue_minutes) for c in mine.cases] == [(2, 130), (1, 70), (1, 20), (0, 200)]
    quiet = board.townships[2]
    assert quiet.total == 0 and quiet.cases == [] and quiet.township_name == "房石镇"
    assert board.townships[0].cases[0].assignee is not None and not board.truncated


def test_a_supervised_case_still_on_time_shows_no_minutes_overdue() -> None:
    board = build_board([(TOWN, "乔庄镇")], [(TOWN, "乔庄镇", 1, 1)], [case(level=1, late_minutes=-30)], NOW)
    only = board.townships[0].cases[0]
    assert (only.level, only.overdue_minutes, only.step) == (1, None, "accept")


def test_counts_stay_complete_when_the_list_is_cut() -> None:
    listed = [case(level=2)]
    board = build_board([], [(TOWN, "乔庄镇", 2, 40), (TOWN, "乔庄镇", 5, 1)], listed, NOW, truncated=True)
    row = board.townships[0]
    assert (row.level_2, row.level_3, len(row.cases), board.truncated) == (40, 1, 1, True)
