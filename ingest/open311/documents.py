"""GeoReport v2 documents in its two formats: JSON, and XML by the Spark convention (a list is a wrapper element
whose children repeat one name), UTF-8 with the XML declaration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

import orjson
from fastapi.responses import Response

ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
"""The element a list's items take in XML, by the list's name."""


class Format(StrEnum):
    """The format a client chose by the resource's suffix."""

    JSON = "json"
    XML = "xml"

    @property
    def media_type(self) -> str:
        """The spec's Content-Type for this format."""
        return "application/json; charset=utf-8" if self is Format.JSON else "text/xml; charset=utf-8"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _element(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _element(node, key, inner)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            _element(node, ITEM_NAMES[name], item)
    elif value is not None:
        node.text = _text(value)


def to_xml(root: str, body: Mapping[str, Any] | Sequence[Any]) -> bytes:
    """`body` as the spec's XML under `root`: a list's items as ITEM_NAMES[root], a mapping's keys as children."""
    top = ET.Element(root)
    if isinstance(body, Mapping):
        for key, value in body.items():
            _element(top, key, value)
    else:
        for item in body:
            _element(top, ITEM_NAMES[root], item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode").encode()


def render(fmt: Format, root: str, body: Mapping[str, Any] | Sequence[Any], status: int = 200) -> Response:
    """A response in the chosen format; JSON is the body itself (a list stays a bare array, as the spec shows)."""
    content = orjson.dumps(body) if fmt is Format.JSON else to_xml(root, body)
    return Response(content, status_code=status, media_type=fmt.media_type)


def errors(fmt: Format, status: int, description: str, headers: Mapping[str, str] | None = None) -> Response:
    """The spec's error document: a list of {code, description}, with the HTTP status as the code."""
    response = render(fmt, "errors", [{"code": status, "description": description}], status)
    response.headers.update(headers or {})
    return response
