"""The GeoReport v2 JSON Schemas of the specification's validator (open311/schema-validation, schema/georeport-v2),
restated here: what every answer of our Open311 server must satisfy."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

_TEXT_OR_NULL = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_TIME_OR_NULL = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
_NUMBER_OR_NULL = {"anyOf": [{"type": "number"}, {"type": "null"}]}

SERVICE = {
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": _TEXT_OR_NULL,
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": _TEXT_OR_NULL,
        "group": _TEXT_OR_NULL,
    },
}
SERVICES = {"type": "array", "items": SERVICE}
SERVICE_DEFINITION = {
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "required": ["variable", "code", "datatype", "required"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {
                        "type": "string",
                        "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"],
                    },
                    "required": {"type": "boolean"},
                    "datatype_description": _TEXT_OR_NULL,
                    "order": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "description": _TEXT_OR_NULL,
                    "values": {
                        "type": "array",
                        "items": {
                            "required": ["key", "name"],
                            "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}
REQUEST = {
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _TEXT_OR_NULL,
        "service_name": _TEXT_OR_NULL,
        "service_code": {"type": "string"},
        "description": {"anyOf": [{"type": "string", "maxLength": 4000}, {"type": "null"}]},
        "agency_responsible": _TEXT_OR_NULL,
        "service_notice": _TEXT_OR_NULL,
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": _TIME_OR_NULL,
        "expected_datetime": _TIME_OR_NULL,
        "address": _TEXT_OR_NULL,
        "address_id": _TEXT_OR_NULL,
        "zipcode": _TEXT_OR_NULL,
        "lat": _NUMBER_OR_NULL,
        "long": _NUMBER_OR_NULL,
        "media_url": {"anyOf": [{"type": "string", "format": "uri"}, {"type": "null"}]},
    },
}
REQUESTS = {"type": "array", "items": REQUEST}
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
"""The spec's error document (its page gives no schema file for it)."""


def problems(schema: dict[str, Any], document: Any) -> list[str]:
    """Every way `document` breaks `schema` (formats checked too); empty when it conforms."""
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(document)]
