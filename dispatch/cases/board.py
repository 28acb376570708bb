"""The 督办 board: open cases that are overdue or under supervision, per township, with counts by supervision level and
the cases most urgent first (the highest level, then the longest overdue)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg
from pydantic import BaseModel, Field

from core.case_views import CaseView
from core.cases import Assignee
from core.vocabulary import CaseState, Severity, Step
from dispatch.access.scope import Scope
from dispatch.cases.columns import CASE_COLUMNS, case_from_row
from dispatch.clock import in_force

LEVELS = (1, 2, 3)
TITLE_CHARS = 40
ON_BOARD = "closed_at IS NULL AND (supervision_level > 0 OR step_due_at < $1)"
TOWNSHIPS = (
    f"SELECT DISTINCT ON (code) code, name FROM admin_units a WHERE level = 'township' AND {in_force('a')} AND {{area}}"
    " ORDER BY code, valid_from DESC"
)


class BoardCase(BaseModel):
    """One case on the board: what it is, whose move it is, how late, at which 督办 level."""

    id: str = Field(description="the case id (its code)")
    title: str = Field(description="the description's first line, cut short")
    category: str = Field(description="the case's 小类 code")
    priority: Severity
    state: CaseState
    step: Step
    step_due_at: datetime | None
    overdue_minutes: int | None = Field(description="minutes past the step's deadline; None while on time")
    level: int = Field(description="督办 level of the current step: 0 none yet, 1 township, 2 county, 3 repeated")
    assignee: Assignee | None
    grid_name: str | None


class BoardTownship(BaseModel):
    """A township's row: how many cases at each 督办 level, how many overdue not yet supervised, and the cases."""

    township_code: str
    township_name: str
    level_1: int = 0
    level_2: int = 0
    level_3: int = 0
    overdue_unsupervised: int = 0
    cases: list[BoardCase] = Field(default_factory=list)

    @property
    def total(self) -> int:
        """Every case on the township's row."""
        return self.level_1 + self.level_2 + self.level_3 + self.overdue_unsupervised


class Board(BaseModel):
    """The board at a moment, townships most urgent first."""

    at: datetime
    townships: list[BoardTownship]
    truncated: bool = Field(description="more cases than the limit: counts are complete, the lists are not")


def title_of(description: str) -> str:
    """A case's title: its description's first non-empty line, cut to TITLE_CHARS characters."""
    line = next((part.strip() for part in description.splitlines() if part.strip()), "")
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def overdue_minutes(due: datetime | None, now: datetime) -> int | None:
    """Whole minutes past `due`, or None while on time (or with no deadline)."""
    if due is None or due >= now:
        return None
    return int((now - due).total_seconds() // 60)


def board_case(case: CaseView, now: datetime) -> BoardCase:
    """A case as the board shows it."""
    return BoardCase(
        id=str(case.id),
        title=title_of(case.description),
        category=case.category,
        priority=case.priority,
        state=case.state,
        step=case.step,
        step_due_at=case.step_due_at,
        overdue_minutes=overdue_minutes(case.step_due_at, now),
        level=case.supervision_level,
        assignee=case.assignee,
        grid_name=case.grid_name,
    )


def urgency(case: BoardCase) -> tuple[int, int, str]:
    """Sort key, most urgent first: the higher 督办 level, then the longer overdue."""
    return (-case.level, -(case.overdue_minutes if case.overdue_minutes is not None else -1), case.id)


def township_urgency(row: BoardTownship) -> tuple[int, int, int, int, str]:
    """Sort key of townships: the most level-3 cases first, then level 2, level 1, and overdue unsupervised."""
    return (-row.level_3, -row.level_2, -row.level_1, -row.overdue_unsupervised, row.township_code)


def build_board(
    townships: Iterable[tuple[str, str]],
    counts: Iterable[tuple[str, str, int, int]],
    cases: Iterable[CaseView],
    now: datetime,
    truncated: bool = False,
) -> Board:
    """The board from the area's townships (code, name), the counts of its cases on the board (township code and name,
    督办 level with 0 for overdue unsupervised, count), and the cases listed."""
    rows = {code: BoardTownship(township_code=code, township_name=name) for code, name in townships}

    def row_of(code: str | None, name: str | None) -> BoardTownship:
        key = code or ""
        return rows.setdefault(key, BoardTownship(township_code=key, township_name=name or key))

    for code, name, level, n in counts:
        field = f"level_{min(level, LEVELS[-1])}" if level > 0 else "overdue_unsupervised"
        row = row_of(code, name)
        setattr(row, field, getattr(row, field) + n)
    for view in cases:
        row_of(view.township_code, view.township_name).cases.append(board_case(view, now))
    for row in rows.values():
        row.cases.sort(key=urgency)
    return Board(at=now, townships=sorted(rows.values(), key=township_urgency), truncated=truncated)


COUNTS = (
    "SELECT township_code, max(township_name) AS township_name, supervision_level AS level, count(*) AS n"
    " FROM cases WHERE {on_board} AND {reach} GROUP BY township_code, supervision_level"
)


async def supervision_board(pool: asyncpg.Pool, scope: Scope, now: datetime, limit: int) -> Board:
    """The board of the caller's area: its townships, complete counts, and up to `limit` cases, most urgent first."""
    args: list[object] = [now, limit + 1]
    reach = scope.case_sql(args)
    count_args: list[object] = [now]
    count_reach = scope.case_sql(count_args)
    area_args: list[object] = []
    area = scope.area_sql("code", area_args)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(
            f"SELECT {CASE_COLUMNS} FROM cases WHERE {ON_BOARD} AND {reach}"
            " ORDER BY supervision_level DESC, step_due_at NULLS LAST, id LIMIT $2",
            *args,
        )
        counts = await conn.fetch(COUNTS.format(on_board=ON_BOARD, reach=count_reach), *count_args)
        towns = await conn.fetch(TOWNSHIPS.format(area=area), *area_args)
    views = [case_from_row(r).view() for r in rows]
    return build_board(
        ((t["code"], t["name"]) for t in towns),
        ((c["township_code"], c["township_name"], c["level"], c["n"]) for c in counts),
        views[:limit],
        now,
        truncated=len(views) > limit,
    )
