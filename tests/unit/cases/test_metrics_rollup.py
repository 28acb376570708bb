"""The metrics rollup: folding a case's log a batch at a time gives what folding it at once gives, and a rollup row
stores the fold without loss."""

from __future__ import annotations

from datetime import timedelta

from core.vocabulary import Step
from dispatch.cases.metrics import facts, report, tally
from dispatch.cases.rollup import Progress, advance, progress_from_row, row_args
from tests.unit.cases.test_machine import DISPATCHER, MEMBER, PHOTO, Case, through_handling


def reworked_and_extended() -> Case:
    """A case handled, sent back once at its check, extended once, then closed."""
    case = Case()
    through_handling(case)
    case.do(MEMBER, kind="request_extension", until=(case.clock + timedelta(days=3)).isoformat(), reason="等材料")
    case.do(DISPATCHER, kind="decide_extension", granted=True)
    case.do(MEMBER, kind="submit", summary="已清运", evidence=[PHOTO])
    case.do(DISPATCHER, kind="check", passed=False, note="未清理干净")
    case.do(MEMBER, kind="submit", summary="已清理干净", evidence=[PHOTO])
    case.do(DISPATCHER, kind="check", passed=True)
    case.do(DISPATCHER, kind="close", note="办结销号")
    return case


def test_folding_in_batches_equals_folding_at_once() -> None:
    case = reworked_and_extended()
    whole = facts(case.log, case.clock + timedelta(seconds=1))
    held: dict = {}
    for start in range(0, len(case.log), 3):
        held = {**held, **advance(held, case.log[start : start + 3])}
    assert whole is not None and held[case.now().id].facts(case.now()) == whole
    assert (whole.checked, whole.reworked, whole.extended) == (True, True, True)
    # a minute per command: accept waited 1, verify 1, handling 1 (start) + 3 (extension, submit) and again 1 after
    # the failed check, the checks 1 each
    assert whole.step_minutes[Step.ACCEPT] == 1 and whole.step_minutes[Step.HANDLE] == 5
    assert whole.step_minutes[Step.CHECK] == 2


def test_advancing_leaves_the_held_fold_as_it_was() -> None:
    case = reworked_and_extended()
    before = advance({}, case.log[:4])
    minutes = dict(before[case.now().id].step_minutes)
    advance(before, case.log[4:])
    assert before[case.now().id].step_minutes == minutes


def test_a_rollup_row_keeps_the_fold() -> None:
    case = reworked_and_extended()
    fold = advance({}, case.log[:-1])[case.now().id]
    case_id, *values = row_args(case.now().id, fold)
    names = ("checked", "reworked", "extended", "step_minutes", "step_since", "step_since_at", "last_at")
    again = progress_from_row(dict(zip(names, values, strict=True)))
    assert case_id == case.now().id and again == fold
    assert again.step_since == (Step.CLOSE, case.log[-2].at) and again.last_at == case.log[-2].at


def test_a_case_not_yet_opened_at_the_end_has_no_facts() -> None:
    case = Case()
    assert facts(case.log, case.log[0].at) is None
    assert Progress().facts(case.now()).step_minutes == {}


def test_a_group_whose_cases_count_nothing_in_the_period_is_not_listed() -> None:
    ended = Case()
    ended.do(DISPATCHER, kind="cancel", reason="误报")
    after = ended.clock + timedelta(minutes=5)
    gone = facts(ended.log, after)
    assert gone is not None and gone.case.grid_code is not None
    # Cancelled before a period that begins after it: nothing received, nothing open, so no row of zeros.
    assert report(tally([gone], "grid", after - timedelta(minutes=1), after)) == []
    # The same case in a period it was opened in is received (and cancelled): its grid is listed.
    rows = report(tally([gone], "grid", ended.log[0].at, after))
    assert [(r["key"], r["received"], r["cancelled"], r["open"]) for r in rows] == [(gone.case.grid_code, 1, 1, 0)]
    still = Case()
    open_now = facts(still.log, after)
    assert open_now is not None
    rows = report(tally([gone, open_now], "person", after - timedelta(minutes=1), after))
    assert [(r["received"], r["open"]) for r in rows] == [(0, 1)]
