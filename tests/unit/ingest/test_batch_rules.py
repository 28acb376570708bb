"""The batch door's rules without I/O: reading JSON arrays and NDJSON, checking each item, answering in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from core.vocabulary import Role
from dispatch.access.scope import Scope
from dispatch.errors import Invalid, TooLarge, Unsupported
from ingest.batch import JSON, MAX_EVENTS, NDJSON, Unreadable, check, claims, decide, read_items
from ingest.receipts import OnRecord
from tests.unit.factories import event_body

GATEWAY = Scope("gateway", Role.SYSTEM, "510822")
MEMBER = Scope("gm-510822100201001", Role.GRID_MEMBER, "510822100201", "gm-510822100201001")


def test_a_json_array_is_read_whole_and_ndjson_line_by_line() -> None:
    a, b = event_body(), event_body()
    assert read_items(orjson.dumps([a, b]), "application/json; charset=utf-8") == [a, b]
    lines = orjson.dumps(a) + b"\r\n\n  \n{oops\n" + orjson.dumps(b)
    items = read_items(lines, NDJSON)
    assert items[0] == a and items[2] == b and isinstance(items[1], Unreadable)
    assert read_items(b"", NDJSON) == []


def test_the_whole_body_is_refused_when_it_is_not_a_batch() -> None:
    with pytest.raises(Invalid, match="not JSON"):
        read_items(b"[{", JSON)
    with pytest.raises(Invalid, match="JSON array"):
        read_items(b'{"type": "incident"}', JSON)
    with pytest.raises(Unsupported, match="text/csv"):
        read_items(b"[]", "text/csv")
    with pytest.raises(TooLarge, match=f"this one has {MAX_EVENTS + 1}"):
        read_items(b"[" + b",".join([b"{}"] * (MAX_EVENTS + 1)) + b"]", JSON)


def test_each_item_is_checked_and_its_faults_named_under_its_index() -> None:
    NOW = datetime.now(UTC)
    good = check(0, event_body(), MEMBER, NOW)
    assert good.out is not None and not good.errors and len(good.digest) == 64
    off_map = check(3, event_body(location={"lon": 2.35, "lat": 48.85}), GATEWAY, NOW)
    assert off_map.out is None and off_map.event_id is not None
    assert any(e.loc[:2] == ["body", 3] and e.loc[-2:] == ["location", "lon"] for e in off_map.errors)
    unreadable = check(1, Unreadable("not JSON: unexpected character"), GATEWAY, NOW)
    assert unreadable.errors[0].loc == ["body", 1] and unreadable.errors[0].type == "json_invalid"
    assert check(2, 42, GATEWAY, NOW).errors[0].loc[:2] == ["body", 2]
    posing = check(4, event_body(reporter={"id": "gm-other"}), MEMBER, NOW)
    assert posing.errors[0].loc == ["body", 4, "reporter", "id"] and posing.errors[0].type == "forbidden"
    assert not check(4, event_body(reporter={"id": "gm-other"}), GATEWAY, NOW).errors, "a gateway posts for others"
    later = (NOW + timedelta(days=1)).isoformat()
    future = check(5, event_body(reported_at=later, occurred_at=later), GATEWAY, NOW)
    assert future.errors[0].loc == ["body", 5, "reported_at"]


def test_answers_follow_the_receipts_and_an_id_repeated_in_the_batch() -> None:
    NOW = datetime.now(UTC)
    fresh, seen_before, other = event_body(), event_body(), event_body()
    items = [
        check(i, body, GATEWAY, NOW)
        for i, body in enumerate(
            [fresh, seen_before, {**other}, fresh, {**fresh, "description": "另一内容"}, {"type": "incident"}]
        )
    ]
    wanted = claims(items)
    assert list(wanted) == [uuid.UUID(b["event_id"]) for b in (fresh, seen_before, other)]
    on_record = {
        items[0].event_id: OnRecord(items[0].digest, "pending", fresh=True),
        items[1].event_id: OnRecord(items[1].digest, "pending", fresh=False),  # claimed before, maybe never acked
        items[2].event_id: OnRecord("0" * 64, "pending", fresh=False),  # this id came with another body
    }
    answer, publish = decide(items, on_record)
    statuses = [r.status for r in answer.results]
    assert statuses == ["accepted", "duplicate", "conflict", "duplicate", "conflict", "invalid"]
    assert (answer.accepted, answer.duplicate, answer.conflict, answer.invalid) == (1, 2, 2, 1)
    assert [o.event.event_id for o in publish] == [items[0].event_id, items[1].event_id], "new and pending go out"
    acked_long_ago = {**on_record, items[1].event_id: OnRecord(items[1].digest, "accepted", fresh=False)}
    _, publish = decide(items, acked_long_ago)
    assert [o.event.event_id for o in publish] == [items[0].event_id]
