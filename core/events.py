"""Field events posted by phones, sensors and hotlines: one envelope, one model per (type, version)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from core.categories import OTHER, CategoryCode
from core.geo import LonLat
from core.inputs import NO_NUL
from core.vocabulary import Severity

MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_OFFLINE_AGE = timedelta(days=30)


class Reporter(BaseModel):
    """The person or device that reported the event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str | None = Field(default=None, max_length=64, pattern=NO_NUL)
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+?[0-9 -]{5,20}$")


class MediaRef(BaseModel):
    """A photo, video or document uploaded beside the event, referenced by its content hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: Literal["image/jpeg", "image/png", "image/webp", "video/mp4", "application/pdf"]
    size: int = Field(gt=0, le=20 * 1024 * 1024)


class EventEnvelope(BaseModel):
    """Fields every event carries; the client chooses `event_id` so retries are idempotent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID
    type: str
    version: Literal[1] = 1
    occurred_at: AwareDatetime
    reported_at: AwareDatetime
    source: Literal["phone", "sensor", "hotline", "open311", "web", "simulator"]
    reporter: Reporter
    location: LonLat
    category: CategoryCode = OTHER
    severity: Severity = Severity.NORMAL
    description: str = Field(default="", max_length=2000, pattern=NO_NUL)
    media: list[MediaRef] = Field(default_factory=list, max_length=20)


def implausible_time(event: EventEnvelope, now: datetime) -> tuple[str, str] | None:
    """The field and reason when an event's times cannot be true at `now`; None when plausible.

    Checked at the door only: a record replayed from the topic months later is still valid.
    """
    if event.reported_at > now + MAX_CLOCK_SKEW:
        return "reported_at", "is in the future"
    if event.occurred_at > event.reported_at + MAX_CLOCK_SKEW:
        return "occurred_at", "is after reported_at"
    if event.occurred_at < now - MAX_OFFLINE_AGE:
        return "occurred_at", "is more than 30 days old"
    return None


class Patrol(EventEnvelope):
    """巡查: a grid worker's patrol; may report that nothing was found."""

    type: Literal["patrol"]
    found_nothing: bool = False

    @model_validator(mode="after")
    def _something_or_nothing(self) -> Patrol:
        if not self.found_nothing and not self.description.strip():
            raise ValueError("a patrol that found something needs a description")
        return self


class Incident(EventEnvelope):
    """事件: something a grid worker saw that needs handling."""

    type: Literal["incident"]


class EnforcementLead(EventEnvelope):
    """执法线索: a suspected violation for the enforcement team."""

    type: Literal["enforcement_lead"]
    suspect: str | None = Field(default=None, max_length=200, pattern=NO_NUL)


class CitizenReport(EventEnvelope):
    """群众诉求: a citizen's request, e.g. forwarded from the 12345 hotline."""

    type: Literal["citizen_report"]
    hotline_ticket: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9-]+$")


class SensorAlert(EventEnvelope):
    """感知告警: an alert from a sensor or a video-analytics camera."""

    type: Literal["sensor_alert"]
    device_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)


FieldEvent = Annotated[
    Patrol | Incident | EnforcementLead | CitizenReport | SensorAlert,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[FieldEvent] = TypeAdapter(FieldEvent)
EVENT_TYPES: tuple[str, ...] = ("patrol", "incident", "enforcement_lead", "citizen_report", "sensor_alert")
