"""A POSTed Open311 form read into a citizen report, or refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.vocabulary import Severity
from dispatch.registry.categories_store import seed_table
from ingest.open311.form import BadRequest, citizen_report, reporter_id
from ingest.open311.services import catalogue

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SERVICES = set(catalogue(seed_table()))
FORM = {
    "service_code": "0102",
    "lat": "32.6",
    "long": "105.2",
    "description": "村口垃圾三天没人清运",
    "address_string": "青溪镇阴平村村口",
    "first_name": "张",
    "last_name": "三",
    "phone": "13800001111",
    "account_id": "app user/7",
    "attribute[severity]": "high",
}


def test_a_request_becomes_a_citizen_report_of_the_client() -> None:
    event = citizen_report(FORM, "hotline-12345", SERVICES, NOW)
    assert event.type == "citizen_report" and event.source == "open311"
    assert event.category == "0102" and event.severity is Severity.HIGH
    assert (event.location.lon, event.location.lat) == (105.2, 32.6)
    assert event.reporter.id == "open311:hotline-12345:app_user_7"
    assert event.reporter.name == "张 三" and event.reporter.phone == "13800001111"
    assert "青溪镇阴平村村口" in event.description and event.occurred_at == NOW


def test_each_request_is_a_new_event() -> None:
    assert citizen_report(FORM, "c", SERVICES, NOW).event_id != citizen_report(FORM, "c", SERVICES, NOW).event_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": ""}, "lat"),
        ({"long": "east"}, "long"),
        ({"lat": "-33.9"}, "lat"),
        ({"service_code": ""}, "service_code"),
        ({"attribute[severity]": "panic"}, "attribute[severity]"),
        ({"description": "长" * 2001}, "description"),
        ({"phone": "call me"}, "phone"),
        ({"first_name": "名" * 70}, "first_name"),
    ],
)
def test_a_field_at_fault_is_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        citizen_report({**FORM, **change}, "c", SERVICES, NOW)
    assert str(refused.value).startswith(f"{field}:")


def test_an_unknown_service_is_not_found() -> None:
    with pytest.raises(LookupError, match="service_code"):
        citizen_report({**FORM, "service_code": "potholes"}, "c", SERVICES, NOW)


def test_reporter_id_keeps_to_the_id_alphabet_and_length() -> None:
    assert reporter_id("hotline", None) == "open311:hotline"
    assert len(reporter_id("hotline", "x" * 100)) <= 64
