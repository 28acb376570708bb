"""SQL for rows dated by `valid_from`/`valid_to`: which are in force on a day (a plan applied ahead of its date has
already written tomorrow's rows, so "the current row" is the one in force today, never merely the one not ended)."""

from __future__ import annotations

LOCAL_TODAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
"""Today's calendar day in Asia/Shanghai, by the database's clock (what `dispatch.clock.local_day` gives)."""


def in_force(alias: str, day: str = LOCAL_TODAY) -> str:
    """SQL: the row `alias` is in force on `day` (a parameter or date expression): from valid_from, before valid_to."""
    return f"{alias}.valid_from <= {day} AND ({alias}.valid_to IS NULL OR {day} < {alias}.valid_to)"
