"""A case as the public's service request: status, the six-step notes, who is responsible, no reporter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from dispatch.registry.categories_store import seed_table
from ingest.open311.requests_view import service_request
from ingest.open311.services import catalogue
from tests.open311_schemas import REQUEST, problems

OPENED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def row(**change: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": uuid4(),
        "state": "dispatched",
        "category": "0102",
        "description": "村口垃圾三天没人清运",
        "township_code": "510822100",
        "township_name": "乔庄镇",
        "village_name": "城郊社区",
        "grid_name": "城郊一网格",
        "assignee_kind": "grid_member",
        "assignee_name": "李四",
        "opened_at": OPENED,
        "updated_at": OPENED + timedelta(minutes=5),
        "due_at": OPENED + timedelta(hours=24),
        "closed_at": None,
        "supervision_level": 0,
        "merged_into": None,
        "lat": 32.5876543,
        "lon": 105.2234567,
    }
    return base | change


@pytest.mark.parametrize(
    ("state", "status", "step"),
    [
        ("registered", "open", "受理登记"),
        ("dispatched", "open", "分类转办"),
        ("accepted", "open", "快速核查"),
        ("in_progress", "open", "研究处理"),
        ("submitted", "open", "跟踪督办"),
        ("closed", "closed", "办结销号"),
        ("cancelled", "closed", "办结销号"),
        ("merged", "closed", "办结销号"),
    ],
)
def test_status_is_open_or_closed_with_the_six_step_state_in_the_notes(state: str, status: str, step: str) -> None:
    request = service_request(row(state=state), catalogue(seed_table()))
    assert request["status"] == status
    assert request["status_notes"].startswith(step)
    assert problems(REQUEST, request) == []


def test_a_grid_member_is_named_by_their_grid_and_a_team_by_its_name() -> None:
    by_member = service_request(row(), catalogue(seed_table()))
    assert by_member["agency_responsible"] == "城郊一网格网格 Grid 城郊一网格"
    assert "李四" not in str(by_member)
    by_team = service_request(row(assignee_kind="team", assignee_name="乔庄镇综合行政执法队"), catalogue(seed_table()))
    assert by_team["agency_responsible"] == "乔庄镇综合行政执法队"


def test_times_place_and_supervision() -> None:
    request = service_request(
        row(supervision_level=2, state="closed", closed_at=OPENED + timedelta(hours=3)), catalogue(seed_table())
    )
    assert request["expected_datetime"] == "2026-12-02T08:00:00+00:00"
    assert request["updated_datetime"] == "2026-12-01T11:00:00+00:00"
    assert "督办2级" in request["status_notes"]
    assert request["address"] == "城郊社区，乔庄镇"
    assert (request["lat"], request["long"]) == (32.58765, 105.22346)
    assert request["service_name"] == "暴露垃圾 Exposed rubbish"
