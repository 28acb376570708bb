"""The processors' clock (real time, shifted by an offset file in drills and tests) and the local calendar day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def now(offset_file: str | None) -> datetime:
    """The current time, plus the offset in seconds written in `offset_file` if it exists."""
    moment = datetime.now(UTC)
    if offset_file:
        path = Path(offset_file)
        if path.exists():
            text = path.read_text().strip()
            if text:
                moment += timedelta(seconds=float(text))
    return moment


def local_day(moment: datetime) -> date:
    """The calendar day in Asia/Shanghai, which is what effective dates refer to."""
    return moment.astimezone(LOCAL_TZ).date()


def seconds_to_next_day(moment: datetime) -> float:
    """Seconds from `moment` to the next local midnight (Asia/Shanghai), when the rows in force change."""
    local = moment.astimezone(LOCAL_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    return (midnight - local).total_seconds()
