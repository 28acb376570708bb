"""Routing a self-reported event (a grid member reporting in their own grid) under the township's policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.cases import OpenCase
from core.events import EVENT_ADAPTER
from core.vocabulary import SelfReport
from dispatch.routing.decision import decide
from dispatch.routing.model import Directory
from dispatch.routing.self_report import SelfReportBook
from tests.unit.factories import COUNTY, TOWN, VILLAGE, event_body, snapshot

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
OWN = {"id": "gm-1", "name": "王伟"}


def routed(policies: dict[str, SelfReport], directory: Directory | None = None, **event: Any) -> OpenCase:
    snap = replace(snapshot(), self_report=SelfReportBook(policies))
    if directory is not None:
        snap = replace(snap, directory=directory)
    result = decide(EVENT_ADAPTER.validate_python(event_body(**event)), snap, NOW)
    assert isinstance(result, OpenCase)
    return result


def test_without_a_policy_row_the_own_member_keeps_the_case_and_the_report_counts() -> None:
    case = routed({}, reporter=OWN)
    assert (case.assignee.id, case.assignee.fallback, case.self_report) == ("gm-1", None, SelfReport.REPORTER_REPORT)


def test_under_duty_post_a_self_report_goes_to_the_village_duty_post() -> None:
    case = routed({COUNTY: SelfReport.DUTY_POST}, reporter=OWN)
    assert (case.assignee.id, case.self_report) == ("duty-v", SelfReport.DUTY_POST)
    assert case.assignee.fallback == "reported by gm-1, its own grid member: village duty post verifies"


def test_the_townships_row_comes_before_the_countys() -> None:
    case = routed({COUNTY: SelfReport.DUTY_POST, TOWN: SelfReport.REPORTER_REPORT}, reporter=OWN)
    assert (case.assignee.id, case.self_report) == ("gm-1", SelfReport.REPORTER_REPORT)


def test_without_a_village_duty_post_the_townships_verifies() -> None:
    base = snapshot().directory
    posts = {k: v for k, v in base.duty_posts.items() if k != VILLAGE}
    case = routed({COUNTY: SelfReport.DUTY_POST}, replace(base, duty_posts=posts), reporter=OWN)
    assert case.assignee.id == "duty-t" and "township duty post" in (case.assignee.fallback or "")


def test_with_no_duty_post_at_all_the_report_counts_and_the_case_says_why() -> None:
    base = snapshot().directory
    case = routed({COUNTY: SelfReport.DUTY_POST}, replace(base, duty_posts={}), reporter=OWN)
    assert (case.assignee.id, case.self_report) == ("gm-1", SelfReport.REPORTER_REPORT)
    assert "no duty post" in (case.assignee.fallback or "")


def test_a_report_by_someone_else_is_routed_as_before() -> None:
    case = routed({COUNTY: SelfReport.DUTY_POST})
    assert (case.assignee.id, case.assignee.fallback, case.self_report) == ("gm-1", None, SelfReport.DUTY_POST)
