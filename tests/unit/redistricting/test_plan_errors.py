"""Plan errors over HTTP point at the item they name; a summary counts what a plan changes."""

from __future__ import annotations

from datetime import date

from core.plans import RedistrictingPlan
from dispatch.redistricting.validate import Lineage, Outcome, PlanInvalid, plan_error_loc
from web.errors import detail
from web.redistricting_api import outcome_summary


def test_an_error_naming_an_item_points_at_it_and_others_at_the_plan() -> None:
    assert plan_error_loc("item 2 (merge): unit 510822999201 does not exist") == ("body", "items", 1)
    assert plan_error_loc("510822100: gap of 0.01 km² not covered") == ("body",)
    assert detail(PlanInvalid(["item 1 (rename): unit 510822100299 does not exist"])) == [
        {
            "loc": ["body", "items", 0],
            "msg": "item 1 (rename): unit 510822100299 does not exist",
            "type": "plan_invalid",
        }
    ]


def test_a_summary_counts_changes_and_lineage_by_level_and_kind() -> None:
    plan = RedistrictingPlan.model_validate(
        {
            "plan_id": "merge-two",
            "county": "510822",
            "effective_date": "2026-11-21",
            "legal_basis": "测试〔2026〕1号",
            "items": [{"op": "merge", "sources": ["510822100202"], "into": "510822100201"}],
        }
    )
    out = Outcome(
        {},
        {},
        lineage=[
            Lineage("510822100202", "510822100201", "merged_into", "village"),
            Lineage("510822100202001", "510822100201004", "recoded_to", "grid"),
        ],
        counts={"units_changed": 2, "grids_changed": 1, "cases_to_move": 3},
    )
    summary = outcome_summary(plan, out)
    assert summary["effective_date"] == date(2026, 11, 21) and summary["items"] == 1
    assert (summary["units_changed"], summary["grids_changed"], summary["cases_to_move"]) == (2, 1, 3)
    assert summary["lineage"] == {"grid recoded_to": 1, "village merged_into": 1}
