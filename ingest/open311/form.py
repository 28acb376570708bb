"""A POSTed GeoReport request (a urlencoded form) read into the product's citizen report, or refused naming the
field at fault."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime

from pydantic import ValidationError

from core.events import CitizenReport
from core.vocabulary import Severity
from ingest.open311.services import SEVERITY_ATTRIBUTE

MAX_DESCRIPTION = 2000
"""The product keeps 2,000 characters of a description (the spec allows up to 4,000: longer ones are refused)."""
REPORTER_ID = re.compile(r"[^A-Za-z0-9_.:-]")


class BadRequest(ValueError):
    """A request the spec answers with 400; the message names the field."""


def _one(form: Mapping[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _coordinate(form: Mapping[str, str], name: str) -> float:
    raw = _one(form, name)
    if raw is None:
        raise BadRequest(f"{name}: lat and long are required (requests are located by coordinates, WGS84)")
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(f"{name}: {raw!r} is not a number") from None


def _severity(form: Mapping[str, str]) -> Severity:
    raw = _one(form, f"attribute[{SEVERITY_ATTRIBUTE}]")
    if raw is None:
        return Severity.NORMAL
    try:
        return Severity(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise BadRequest(f"attribute[{SEVERITY_ATTRIBUTE}]: {raw!r} is not one of {allowed}") from None


def _description(form: Mapping[str, str]) -> str:
    parts = [_one(form, "description"), _one(form, "address_string")]
    text = "\n".join(p for p in parts if p)
    if len(text) > MAX_DESCRIPTION:
        raise BadRequest(f"description: at most {MAX_DESCRIPTION} characters with the address_string")
    return text


def reporter_id(client: str, account_id: str | None) -> str:
    """The reporter's id: the client, and the citizen's account there when given (as the client names them)."""
    suffix = REPORTER_ID.sub("_", account_id)[:32] if account_id else ""
    return f"open311:{client}" + (f":{suffix}" if suffix else "")


def citizen_report(form: Mapping[str, str], client: str, services: set[str], now: datetime) -> CitizenReport:
    """The event a request becomes: a 群众诉求 from source open311, located by its coordinates."""
    code = _one(form, "service_code")
    if code is None:
        raise BadRequest("service_code: required (see services.json)")
    if code not in services:
        raise LookupError(f"service_code: {code!r} is not a service of this endpoint")
    lat, lon = _coordinate(form, "lat"), _coordinate(form, "long")
    name = " ".join(p for p in (_one(form, "first_name"), _one(form, "last_name")) if p) or None
    raw = {
        "event_id": uuid.uuid4(),
        "type": "citizen_report",
        "occurred_at": now,
        "reported_at": now,
        "source": "open311",
        "reporter": {"id": reporter_id(client, _one(form, "account_id")), "name": name, "phone": _one(form, "phone")},
        "location": {"lon": lon, "lat": lat},
        "category": code,
        "severity": _severity(form),
        "description": _description(form),
    }
    try:
        return CitizenReport.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise BadRequest(f"{_field(error['loc'])}: {error['msg']}") from None


def _field(loc: tuple[int | str, ...]) -> str:
    """The form field a model error is about."""
    names: dict[tuple[str, ...], str] = {
        ("location", "lon"): "long",
        ("location", "lat"): "lat",
        ("reporter", "name"): "first_name",
    }
    key = tuple(str(p) for p in loc)
    return names.get(key, key[-1] if key else "request")
