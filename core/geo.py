"""Geographic value types: WGS84/CGCS2000 lon/lat points inside China's extent."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# China's extent, generously: Pamirs to the Wusu river, Zengmu reef to Mohe.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (3.5, 54.0)


class LonLat(BaseModel):
    """A point as longitude and latitude in degrees, inside China's extent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lon: float = Field(ge=CHINA_LON[0], le=CHINA_LON[1], description="longitude, degrees east")
    lat: float = Field(ge=CHINA_LAT[0], le=CHINA_LAT[1], description="latitude, degrees north")
