"""What a step SLA edit may say: minutes to accept and to verify within sane bounds, the day it starts, and why."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from core.categories import CategoryScope
from core.inputs import NO_NUL
from core.vocabulary import Severity
from dispatch.errors import Invalid, Loc

UNIT_CODE = r"^([0-9]{6}|[0-9]{9})$"
ACCEPT_MAX_MINUTES = 7 * 24 * 60
"""A week: a case nobody accepts for longer is not being managed."""
VERIFY_MAX_MINUTES = 30 * 24 * 60
"""Thirty days to verify on site."""
AHEAD_MAX = timedelta(days=366)
"""How far ahead a policy may be scheduled."""


class StepSlaTerms(BaseModel):
    """The clock of a policy and why it is set: what a replacement changes."""

    model_config = ConfigDict(extra="forbid")

    accept_minutes: int = Field(ge=1, le=ACCEPT_MAX_MINUTES, description="minutes to accept (接收) a dispatched case")
    verify_minutes: int = Field(ge=1, le=VERIFY_MAX_MINUTES, description="minutes to verify (快速核查) on site")
    valid_from: date | None = Field(default=None, description="first day in force (Asia/Shanghai); default today")
    reason: str = Field(min_length=1, max_length=200, pattern=NO_NUL, description="why (recorded in the audit trail)")
    note: str = Field(default="", max_length=200, pattern=NO_NUL, description="what the policy is for")


class StepSlaSpec(StepSlaTerms):
    """A new policy: the unit (county default or township override), optionally one category and one priority."""

    unit_code: str = Field(pattern=UNIT_CODE, description="county (default) or township (override) code")
    category: CategoryScope | None = Field(
        default=None, description="only cases of this 大类 or 小类 code (default any; a legacy name means its 大类)"
    )
    priority: Severity | None = Field(default=None, description="only cases of this priority (default any)")


def first_day(requested: date | None, today: date, loc: Loc = ("body", "valid_from")) -> date:
    """The day a policy starts: today unless given; Invalid, naming the field, for a day past or too far ahead."""
    day = requested or today
    if day < today:
        raise Invalid(f"valid_from {day} is in the past: a policy starts today or later", loc)
    if day > today + AHEAD_MAX:
        raise Invalid(f"valid_from {day} is more than {AHEAD_MAX.days} days ahead", loc)
    return day


def end_day(valid_from: date, today: date) -> date:
    """The day an ended policy stops: today, or its first day when it has not started (it never comes into force)."""
    return max(valid_from, today)


def in_area(unit_code: str, area: str) -> bool:
    """Whether a caller of `area` may edit the policies of `unit_code` (a unit inside the area)."""
    return unit_code.startswith(area)


def describe(row: dict[str, object]) -> str:
    """One policy on one line: unit, what it matches, the minutes and the days it is in force."""
    match = " ".join(f"{k}={row[k]}" for k in ("category", "priority") if row.get(k)) or "(any)"
    until = f" until {row['valid_to']}" if row.get("valid_to") else ""
    return (
        f"#{row['id']:<5} {row['unit_code']:<10} {match:<32} accept {row['accept_minutes']} min,"
        f" verify {row['verify_minutes']} min, from {row['valid_from']}{until}  {row.get('note') or ''}"
    ).rstrip()
