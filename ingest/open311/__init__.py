"""The Open311 GeoReport v2 door: citizens' requests from 12345 hotlines and apps, into the same intake."""

from ingest.open311.api import router

__all__ = ["router"]
