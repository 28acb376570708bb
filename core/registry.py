"""The one registry of event types: (type, version) -> model and topic, and the parser that uses it."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from pydantic import BaseModel

from core import events, topics


@dataclass(frozen=True)
class EventKind:
    """A registered event type: its model and the topic it travels on."""

    name: str
    version: int
    model: type[events.EventEnvelope]
    topic: topics.TopicSpec


REGISTRY: dict[tuple[str, int], EventKind] = {
    (k.name, k.version): k
    for k in (
        EventKind("patrol", 1, events.Patrol, topics.EVENTS),
        EventKind("incident", 1, events.Incident, topics.EVENTS),
        EventKind("enforcement_lead", 1, events.EnforcementLead, topics.EVENTS),
        EventKind("citizen_report", 1, events.CitizenReport, topics.EVENTS),
        EventKind("sensor_alert", 1, events.SensorAlert, topics.EVENTS),
    )
}


class UnknownEventType(Exception):
    """A well-formed record whose (type, version) this build does not know: quarantined with its type, and counted."""


class MalformedRecord(Exception):
    """A record that cannot be read as any event: it goes to the dead-letter topic with this reason."""


def parse_event(raw: bytes) -> events.EventEnvelope:
    """Read one record from the events topic, or say precisely why not."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedRecord(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedRecord("not a JSON object")
    kind = REGISTRY.get((str(data.get("type")), _as_int(data.get("version", 1))))
    if kind is None:
        raise UnknownEventType(f"{data.get('type')!r} v{data.get('version', 1)}")
    try:
        event: events.EventEnvelope = kind.model.model_validate(data)
        return event
    except ValueError as exc:
        raise MalformedRecord(_first_error(exc)) from exc


def _as_int(value: object) -> int:
    return value if isinstance(value, int) else -1


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg')}"
    return str(exc)


def dump(model: BaseModel) -> bytes:
    """Serialise a contract model for the wire."""
    return model.model_dump_json().encode()
