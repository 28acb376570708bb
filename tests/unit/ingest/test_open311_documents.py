"""The Open311 documents: XML by the Spark convention and the spec's error document."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import orjson

from dispatch.registry.categories_store import seed_table
from ingest.open311.documents import Format, errors, to_xml
from ingest.open311.services import catalogue
from tests.open311_schemas import ERRORS, SERVICE_DEFINITION, SERVICES, problems


def test_a_list_is_a_wrapper_whose_children_repeat_the_item_name() -> None:
    xml = to_xml("services", [s.listed() for s in catalogue(seed_table()).values()])
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    root = ET.fromstring(xml)
    assert root.tag == "services"
    assert {child.tag for child in root} == {"service"}
    first = root[0]
    assert first.findtext("metadata") == "true"
    assert first.findtext("type") == "batch"
    assert first.findtext("service_name") == "私搭乱建 Unauthorised sheds and structures"
    assert first.findtext("group") == "市容环境 City appearance and environment"


def test_nested_lists_and_empty_values() -> None:
    definition = catalogue(seed_table())["1201"].definition()
    root = ET.fromstring(to_xml("service_definition", definition))
    values = root.findall("attributes/attribute/values/value")
    assert [v.findtext("key") for v in values] == ["low", "normal", "high", "urgent"]
    request = ET.fromstring(to_xml("service_requests", [{"service_request_id": "x", "zipcode": None}]))
    assert request.find("request/zipcode") is not None and request.findtext("request/zipcode") == ""


def test_services_and_definitions_fit_the_specification_schemas() -> None:
    services = catalogue(seed_table())
    assert problems(SERVICES, [s.listed() for s in services.values()]) == []
    for service in services.values():
        assert problems(SERVICE_DEFINITION, service.definition()) == []


def test_errors_carry_the_status_as_code_in_both_formats() -> None:
    answer = errors(Format.JSON, 403, "api_key: missing", {"Retry-After": "5"})
    assert answer.status_code == 403
    body = orjson.loads(bytes(answer.body))
    assert body == [{"code": 403, "description": "api_key: missing"}]
    assert problems(ERRORS, body) == []
    xml = errors(Format.XML, 404, "token: not found")
    assert xml.headers["content-type"] == "text/xml; charset=utf-8"
    assert ET.fromstring(bytes(xml.body)).findtext("error/code") == "404"
