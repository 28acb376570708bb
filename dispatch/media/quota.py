"""Media bytes each account may upload per local day, counted in PostgreSQL so every web process shares the count."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from dispatch.clock import LOCAL_TZ
from dispatch.errors import TooMany
from dispatch.media.store import Executor

CHARGE = """
INSERT INTO media_quota AS q (account, day, bytes) VALUES ($1, $2, $3)
ON CONFLICT (account, day) DO UPDATE SET bytes = q.bytes + EXCLUDED.bytes WHERE q.bytes + EXCLUDED.bytes <= $4
RETURNING bytes
"""


class MediaQuotaExceeded(TooMany):
    """The account has uploaded its media bytes for today."""


def seconds_to_tomorrow(moment: datetime) -> int:
    """Whole seconds until the next local midnight, when the day's count starts again."""
    local = moment.astimezone(LOCAL_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), LOCAL_TZ)
    return max(1, int((midnight - local).total_seconds()))


async def charge(pool: Executor, account: str, moment: datetime, size: int, per_day: int) -> int:
    """Count `size` bytes against the account's local day and return the day's total; refuse past the cap."""
    day = moment.astimezone(LOCAL_TZ).date()
    total = None if size > per_day else await pool.fetchval(CHARGE, account, day, size, per_day)
    if total is None:
        raise MediaQuotaExceeded(
            f"media_bytes_per_day: an account may upload at most {per_day} bytes of media a day",
            seconds_to_tomorrow(moment),
        )
    return int(total)
