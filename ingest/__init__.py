"""The door: HTTP intake from phones, sensors and hotlines; validation; idempotency.

Exposes `router` and `lifespan` as the `gridcmd.api` plugin the web app loads, and `BODY_ALLOWANCES`: the paths
whose bodies may be larger than the app's default limit (the batch door's 1 MiB).
"""

from ingest.api import lifespan, router
from ingest.batch import BATCH_PATH, MAX_BYTES

BODY_ALLOWANCES = {BATCH_PATH: MAX_BYTES}

__all__ = ["BODY_ALLOWANCES", "lifespan", "router"]
