"""Validation of field events: what the door accepts and what it refuses, naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from pydantic import ValidationError

from core.events import EVENT_ADAPTER, Incident, Patrol, implausible_time
from core.registry import MalformedRecord, UnknownEventType, parse_event
from tests.unit.factories import event_body


def error_locs(body: dict[str, object]) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as info:
        EVENT_ADAPTER.validate_python(body)
    return [tuple(e["loc"]) for e in info.value.errors()]


def test_a_valid_incident_is_read_as_its_type() -> None:
    event = EVENT_ADAPTER.validate_python(event_body())
    assert isinstance(event, Incident)
    assert event.location.lon == 105.05


def test_coordinates_outside_china_name_the_field() -> None:
    assert ("incident", "location", "lon") in error_locs(event_body(location={"lon": 2.35, "lat": 48.85}))


def test_a_missing_reporter_is_named() -> None:
    body = event_body()
    del body["reporter"]
    assert ("incident", "reporter") in error_locs(body)


def test_unknown_fields_are_refused() -> None:
    assert ("incident", "priority_override") in error_locs(event_body(priority_override="urgent"))


def test_an_unknown_type_is_refused() -> None:
    assert error_locs(event_body(type="ufo_sighting"))


def test_a_naive_time_is_refused() -> None:
    assert ("incident", "occurred_at") in error_locs(event_body(occurred_at="2026-11-21T08:00:00"))


def test_times_in_the_future_are_implausible() -> None:
    now = datetime.now(UTC)
    event = EVENT_ADAPTER.validate_python(event_body(reported_at=(now + timedelta(hours=2)).isoformat()))
    assert implausible_time(event, now) == ("reported_at", "is in the future")


def test_old_events_from_offline_phones_within_30_days_are_plausible() -> None:
    now = datetime.now(UTC)
    event = EVENT_ADAPTER.validate_python(event_body(occurred_at=(now - timedelta(days=3)).isoformat()))
    assert implausible_time(event, now) is None
    older = EVENT_ADAPTER.validate_python(event_body(occurred_at=(now - timedelta(days=40)).isoformat()))
    assert implausible_time(older, now) == ("occurred_at", "is more than 30 days old")


def test_a_patrol_may_report_nothing_found_but_otherwise_needs_a_description() -> None:
    nothing = EVENT_ADAPTER.validate_python(event_body(type="patrol", found_nothing=True, description=""))
    assert isinstance(nothing, Patrol) and nothing.found_nothing
    assert error_locs(event_body(type="patrol", description=""))


def test_a_sensor_alert_needs_its_device() -> None:
    assert ("sensor_alert", "device_id") in error_locs(event_body(type="sensor_alert", source="sensor"))


def test_the_registry_parses_records_and_explains_bad_ones() -> None:
    assert isinstance(parse_event(orjson.dumps(event_body())), Incident)
    with pytest.raises(MalformedRecord, match="not JSON"):
        parse_event(b"{not json")
    with pytest.raises(MalformedRecord, match="location"):
        parse_event(orjson.dumps(event_body(location={"lon": 500, "lat": 32})))
    with pytest.raises(UnknownEventType):
        parse_event(orjson.dumps(event_body(type="drone_photo")))
    with pytest.raises(UnknownEventType):
        parse_event(orjson.dumps(event_body(version=2)))
