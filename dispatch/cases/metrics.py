"""Case metrics from the case log, per grid, village, township, team, person, 大类 or 小类: the rollup kept per case by
the writer (dispatch/cases/rollup.py), and the log itself for the cases changed since the period's end.

Definitions (also in the README), for a period [start, end):
- received: cases opened in the period, not merged into another as duplicates;
- 结案率 closure rate: closed by the end / received, cancelled cases left out of both;
- 按期结案率 on-time closure rate: closed no later than their deadline (after granted extensions) / closed;
- 返工率 rework rate: cases with at least one failed check / cases checked at least once;
- 延期率 extension rate: cases with at least one granted extension / received (cancelled left out);
- median minutes per step: time from entering a step to leaving it, over the received cases;
- open, overdue: every case (whenever opened) still open at the end, and those of them past their step deadline.
A group is listed when it has a case received in the period or open at its end, never as a row of zeros.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from core.categories import CategoryTable, major_of
from core.vocabulary import CaseState, PartyKind, Step
from dispatch.access.scope import Scope
from dispatch.cases.columns import CASE_COLUMNS, case_from_row
from dispatch.cases.machine import CaseRecord, LogEntry, evolve
from dispatch.cases.rollup import CaseFacts, Progress, progress_from_row
from dispatch.cases.store import LOG_COLUMNS, entry_from_row
from dispatch.registry.categories_store import load_table

DIMENSIONS = ("township", "village", "grid", "team", "person", "major_category", "category")
BY_CATEGORY = ("major_category", "category")
TIMED_STEPS = (Step.ACCEPT, Step.VERIFY, Step.HANDLE, Step.CHECK, Step.CLOSE)


@dataclass
class Tally:
    """Counts for one group."""

    received: int = 0
    cancelled: int = 0
    closed: int = 0
    on_time: int = 0
    checked: int = 0
    reworked: int = 0
    extended: int = 0
    open: int = 0
    overdue: int = 0
    step_minutes: dict[Step, list[float]] = field(default_factory=lambda: defaultdict(list))


def facts(entries: list[LogEntry], end: datetime) -> CaseFacts | None:
    """Fold one case's log up to `end`; None when the case did not exist yet."""
    case: CaseRecord | None = None
    progress = Progress()
    for e in entries:
        if e.at >= end:
            break
        case = evolve(case, e)
        progress.add(e)
    return progress.facts(case) if case is not None else None


def group_key(case: CaseRecord, by: str) -> str | None:
    """The group a case counts in along one dimension (None: it has no such group)."""
    a = case.assignee
    if by == "team":
        return a.id if a is not None and a.kind is not PartyKind.GRID_MEMBER else None
    if by == "person":
        return a.id if a is not None and a.kind is PartyKind.GRID_MEMBER else None
    if by == "major_category":
        return major_of(case.category)
    return {
        "township": case.township_code,
        "village": case.village_code,
        "grid": case.grid_code,
        "category": case.category,
    }[by]


def tally(all_facts: Iterable[CaseFacts], by: str, start: datetime, end: datetime) -> dict[str, Tally]:
    """Count every case into its group; a group is there only when a case counts in it (received in the period, or
    open at its end): a case that ended before the period, or was merged in it, makes no row of zeros."""
    groups: dict[str, Tally] = defaultdict(Tally)
    for f in all_facts:
        c = f.case
        key = group_key(c, by)
        received = start <= c.opened_at < end and c.state is not CaseState.MERGED
        if key is None or not (received or c.state.is_open):
            continue
        t = groups[key]
        if c.state.is_open:
            t.open += 1
            t.overdue += bool(c.step_due_at is not None and c.step_due_at < end)
        if not received:
            continue
        t.received += 1
        if c.state is CaseState.CANCELLED:
            t.cancelled += 1
            continue
        if c.state is CaseState.CLOSED:
            t.closed += 1
            t.on_time += bool(c.closed_at and c.due_at and c.closed_at <= c.due_at)
        t.checked += f.checked
        t.reworked += f.reworked
        t.extended += f.extended
        for step, minutes in f.step_minutes.items():
            if step in TIMED_STEPS:
                t.step_minutes[step].append(minutes)
    return groups


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def report(groups: dict[str, Tally]) -> list[dict[str, Any]]:
    """Rates and medians per group, sorted by key."""
    rows = []
    for key in sorted(groups):
        t = groups[key]
        counted = t.received - t.cancelled
        rows.append(
            {
                "key": key,
                "received": t.received,
                "cancelled": t.cancelled,
                "closed": t.closed,
                "closure_rate": _rate(t.closed, counted),
                "on_time_rate": _rate(t.on_time, t.closed),
                "rework_rate": _rate(t.reworked, t.checked),
                "on_time": t.on_time,
                "checked": t.checked,
                "reworked": t.reworked,
                "extended": t.extended,
                "extension_rate": _rate(t.extended, counted),
                "median_minutes": {s.value: round(statistics.median(v), 1) for s, v in t.step_minutes.items() if v},
                "open": t.open,
                "overdue": t.overdue,
            }
        )
    return rows


def named(rows: list[dict[str, Any]], table: CategoryTable) -> list[dict[str, Any]]:
    """Rows grouped by 大类 or 小类 with the category's names (`name`, `name_en`; the code when the table lacks it)."""
    for row in rows:
        entry = table.get(row["key"])
        row["name"], row["name_en"] = (entry.name_zh, entry.name_en) if entry else (row["key"], row["key"])
    return rows


IN_REACH = """
SELECT {cases}, r.checked, r.reworked, r.extended, r.step_minutes, r.step_since, r.step_since_at, r.last_at
FROM cases JOIN metrics_rollup r ON r.case_id = cases.id
WHERE cases.opened_at < $1 AND (cases.opened_at >= $2 OR cases.closed_at IS NULL OR cases.closed_at >= $1)
  AND {reach}
"""
"""The cases a period [$2, $1) can count: opened in it, or possibly open at its end (open now, or left open after)."""
LOGS_BEFORE = f"SELECT {LOG_COLUMNS} FROM case_log WHERE case_id = ANY($1::uuid[]) AND at < $2 ORDER BY case_id, seq"


async def compute(pool: asyncpg.Pool, by: str, start: datetime, end: datetime, scope: Scope) -> list[dict[str, Any]]:
    """The metrics of every group along `by` for [start, end) over the cases within `scope`: from the rollup for a
    case unchanged since `end`, by folding its log up to `end` for one changed since."""
    args: list[object] = [end, start]
    query = IN_REACH.format(cases=CASE_COLUMNS, reach=scope.case_sql(args))
    all_facts: list[CaseFacts] = []
    table = CategoryTable()
    changed: list[UUID] = []
    logs: dict[UUID, list[LogEntry]] = defaultdict(list)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        for row in await conn.fetch(query, *args):
            if row["last_at"] >= end:
                changed.append(row["id"])
            else:
                all_facts.append(progress_from_row(row).facts(case_from_row(row)))
        if changed:
            async for row in conn.cursor(LOGS_BEFORE, changed, end):
                entry = entry_from_row(row)
                logs[entry.case_id].append(entry)
        if by in BY_CATEGORY:
            table = await load_table(conn)
    all_facts += [f for entries in logs.values() if (f := facts(entries, end)) is not None]
    found = report(tally(all_facts, by, start, end))
    return named(found, table) if by in BY_CATEGORY else found
