"""The processors' clock (real time, shifted by an offset file in drills and tests), the local calendar day, and which
dated rows are in force on a day (SQL)."""

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


LOCAL_TODAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
"""Today's calendar day in Asia/Shanghai, by the database's clock (what `local_day` gives)."""


def in_force(alias: str, day: str = LOCAL_TODAY) -> str:
    """SQL: the row `alias` (dated by valid_from/valid_to) is in force on `day`, a parameter or date expression.

    A plan applied ahead of its date has already written tomorrow's rows, so the current row is the one in force
    today, never merely the one not ended."""
    return f"{alias}.valid_from <= {day} AND ({alias}.valid_to IS NULL OR {day} < {alias}.valid_to)"
