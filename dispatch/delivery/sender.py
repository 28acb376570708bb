"""The delivery process's work: claim what is due, send each through its channel's adapter, record the outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

import asyncpg
import httpx

from dispatch.db import DATABASE_FAULTS, create_pool
from dispatch.delivery import outbox
from dispatch.delivery.adapters import Adapter, Failed, GroupRobot, SmsGateway
from dispatch.delivery.settings import DeliverySettings

log = logging.getLogger(__name__)


def adapters(settings: DeliverySettings, http: httpx.AsyncClient) -> dict[str, Adapter]:
    """The configured channels: webhooks always (their URLs are data), SMS when a gateway is set."""
    found: dict[str, Adapter] = {"webhook": GroupRobot(http)}
    if settings.sms_url:
        key = settings.sms_api_key.get_secret_value()
        found["sms"] = SmsGateway(http, settings.sms_url, key, settings.sms_sign, settings.sms_template)
    return found


async def deliver_round(pool: asyncpg.Pool, channels: Mapping[str, Adapter], settings: DeliverySettings) -> int:
    """Claim one batch and send it, one delivery after another, each marked as soon as its answer comes; returns how
    many were claimed."""
    claimed = await outbox.claim(pool, datetime.now(UTC), settings.delivery_batch, settings.lease, list(channels))
    for item in claimed:
        try:
            await channels[item.channel].send(item)
        except Failed as exc:
            status = await outbox.mark_failed(
                pool, item, str(exc), datetime.now(UTC), settings.backoff, permanent=exc.permanent
            )
            log.warning("delivery %d (%s) attempt %d: %s -> %s", item.id, item.channel, item.attempts, exc, status)
            continue
        if not await outbox.mark_sent(pool, item):
            log.warning("delivery %d was claimed again while it was being sent", item.id)
    return len(claimed)


async def run(settings: DeliverySettings) -> None:
    """Deliver until stopped; a database restart is waited out, anything else ends the process (its supervisor
    starts it again)."""
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        async with httpx.AsyncClient(timeout=settings.delivery_timeout_seconds) as http:
            channels = adapters(settings, http)
            log.info("delivering through %s", ", ".join(sorted(channels)))
            while True:
                try:
                    claimed = await deliver_round(pool, channels, settings)
                except DATABASE_FAULTS as exc:
                    log.warning("database unavailable (%s); trying again", exc)
                    claimed = 0
                if claimed < settings.delivery_batch:
                    await asyncio.sleep(settings.delivery_poll_seconds)
    finally:
        await pool.close()
