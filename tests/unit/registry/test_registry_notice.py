"""A plan travels on the compacted registry topic: keyed per plan, parsed back whole, and well under the limit."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

import dispatch
from core import topics
from core.plans import RedistrictingPlan
from core.queues import RegistryChange
from dispatch.redistricting.builder import build_plan
from dispatch.registry.division_import import read_checked

DATA = Path(dispatch.__file__).parent / "data" / "guangyuan"
BROKER_DEFAULT_MAX = 1_048_588
NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)


def qingchuan() -> RedistrictingPlan:
    before, after = read_checked(DATA / "divisions-2019.csv"), read_checked(DATA / "divisions-2020.csv")
    return build_plan(before, after, "510822", "qingchuan-2019-2020", date(2019, 12, 24), "广府〔2019〕118号")


def test_a_plan_notice_is_keyed_by_its_plan_and_parses_back_whole() -> None:
    plan = qingchuan()
    change = RegistryChange(part="plan", revision=3, at=NOW, plan_id=plan.plan_id, plan=plan)
    assert change.key == b"plan:qingchuan-2019-2020"
    again = RegistryChange.model_validate_json(change.model_dump_json())
    assert again.plan == plan and again.key == change.key


def test_other_notices_keep_one_key_per_part_and_old_notices_still_parse() -> None:
    assert RegistryChange(part="people", revision=0, at=NOW).key == b"people"
    old = RegistryChange.model_validate_json('{"part":"plan","revision":1,"at":"2026-11-21T01:00:00Z","plan_id":"p-1"}')
    assert old.plan is None and old.key == b"plan:p-1"


def test_a_plan_travels_only_on_its_own_plan_notice() -> None:
    plan = qingchuan()
    with pytest.raises(ValidationError, match="own plan_id"):
        RegistryChange(part="plan", revision=0, at=NOW, plan_id="other-plan", plan=plan)
    with pytest.raises(ValidationError, match="own plan_id"):
        RegistryChange(part="people", revision=0, at=NOW, plan_id=plan.plan_id, plan=plan)


def test_the_real_qingchuan_plan_fits_one_record_by_far() -> None:
    plan = qingchuan()
    raw = RegistryChange(part="plan", revision=1, at=NOW, plan_id=plan.plan_id, plan=plan).model_dump_json().encode()
    assert len(plan.items) == 197
    assert len(raw) < 64 * 1024 < BROKER_DEFAULT_MAX  # about 38 KB with its review items
    assert len(gzip.compress(raw)) < 8 * 1024  # the producers compress with gzip: about 5 KB
    assert topics.REGISTRY.broker_config()["max.message.bytes"] == str(topics.REGISTRY_MAX_BYTES)
    assert topics.REGISTRY.broker_config()["cleanup.policy"] == "compact"
