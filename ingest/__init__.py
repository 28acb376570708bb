"""The door: HTTP intake from phones, sensors and hotlines; validation; idempotency.

Exposes `router` (the event doors and the Open311 server) and `lifespan` as the `gridcmd.api` plugin the web app
loads, and `BODY_ALLOWANCES`: the paths whose bodies may be larger than the app's default limit (the batch door's
1 MiB).
"""

from fastapi import APIRouter

from ingest import api, open311
from ingest.api import lifespan
from ingest.batch import BATCH_PATH, MAX_BYTES

BODY_ALLOWANCES = {BATCH_PATH: MAX_BYTES}
router = APIRouter()
router.include_router(api.router)
router.include_router(open311.router)

__all__ = ["BODY_ALLOWANCES", "lifespan", "router"]
