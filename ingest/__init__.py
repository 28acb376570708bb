"""The door: HTTP intake from phones, sensors and hotlines; validation; idempotency.

Exposes `router` and `lifespan` as the `gridcmd.api` plugin the web app loads.
"""

from ingest.api import lifespan, router

__all__ = ["lifespan", "router"]
