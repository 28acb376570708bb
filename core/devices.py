"""Cameras and sensors (雪亮工程 cameras, IoT sensors) as the registry keeps them: what, where, whose, and where to
watch them live."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from core.geo import LonLat
from core.inputs import NO_NUL

DEVICE_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
LIVE_URL = r"^(rtsp|rtsps|http|https)://[^\s\x00]{1,490}$"


class DeviceKind(StrEnum):
    """A camera (video analytics) or a sensor of some kind."""

    CAMERA = "camera"
    SENSOR = "sensor"


class DeviceSpec(BaseModel):
    """A device as an administrator or a gateway registers it; a change is a new version from `valid_from`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DeviceKind
    sensor_kind: str | None = Field(
        default=None, max_length=40, pattern=r"^[a-z_]+$", description="for a sensor: water_level, smoke, noise…"
    )
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    location: LonLat
    unit_code: str = Field(pattern=r"^[0-9]{9}([0-9]{3})?$", description="the owning township or village")
    live_url: str | None = Field(default=None, pattern=LIVE_URL, description="its live view: an RTSP or HLS address")
    valid_from: date | None = Field(default=None, description="first day of this version; today when left out")


class DeviceView(BaseModel):
    """A device as the registry answers: one version, with the grid it falls in on the day asked."""

    id: str
    kind: DeviceKind
    sensor_kind: str | None
    name: str
    unit_code: str
    lon: float
    lat: float
    live_url: str | None
    valid_from: date
    valid_to: date | None
    updated_by: str
    updated_at: datetime
    grid_code: str | None
    grid_name: str | None
