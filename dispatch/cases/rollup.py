"""The metrics rollup: per case, the fold of its log that the metrics need beyond the case record (checked, reworked,
extended, minutes per step, the last entry's time), kept by the case writer in the transaction that appends the
entries. A metrics query reads one row per case in reach of its period and folds only the logs of cases changed
since the period's end (dispatch/cases/metrics.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from core.vocabulary import Step
from dispatch.cases.columns import Row
from dispatch.cases.record import CaseRecord, LogEntry
from dispatch.db import Conn


@dataclass(frozen=True)
class CaseFacts:
    """What the metrics need of one case, as of the end of the period."""

    case: CaseRecord
    checked: bool
    reworked: bool
    extended: bool
    step_minutes: dict[Step, float]


@dataclass
class Progress:
    """What the metrics need of a case beyond its record, folded one log entry at a time: the fold of the case's
    whole log (metrics_rollup keeps it per case), or of its entries before a period's end."""

    checked: bool = False
    reworked: bool = False
    extended: bool = False
    step_minutes: dict[Step, float] = field(default_factory=dict)
    step_since: tuple[Step, datetime] | None = None
    last_at: datetime | None = None

    def add(self, e: LogEntry) -> None:
        """Fold in the case's next entry."""
        p = e.payload
        self.checked |= e.kind == "checked"
        self.reworked |= e.kind == "checked" and not p["passed"]
        self.extended |= e.kind == "extension_decided" and p["granted"]
        self.last_at = e.at if self.last_at is None else max(self.last_at, e.at)
        if "step" in p:
            if self.step_since is not None:
                step, since = self.step_since
                self.step_minutes[step] = self.step_minutes.get(step, 0.0) + (e.at - since).total_seconds() / 60
            self.step_since = (Step(p["step"]), e.at)

    def facts(self, case: CaseRecord) -> CaseFacts:
        """The case's facts, with its record as of the same entries."""
        return CaseFacts(case, self.checked, self.reworked, self.extended, dict(self.step_minutes))


COLUMNS = "checked, reworked, extended, step_minutes, step_since, step_since_at, last_at"
LOAD = f"SELECT case_id, {COLUMNS} FROM metrics_rollup WHERE case_id = ANY($1::uuid[])"
UPSERT = f"""
INSERT INTO metrics_rollup (case_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (case_id) DO UPDATE SET checked = EXCLUDED.checked, reworked = EXCLUDED.reworked,
    extended = EXCLUDED.extended, step_minutes = EXCLUDED.step_minutes, step_since = EXCLUDED.step_since,
    step_since_at = EXCLUDED.step_since_at, last_at = EXCLUDED.last_at
"""


def progress_from_row(row: Row) -> Progress:
    """A rollup row as the fold it holds."""
    since_step, since_at = row["step_since"], row["step_since_at"]
    return Progress(
        checked=row["checked"],
        reworked=row["reworked"],
        extended=row["extended"],
        step_minutes={Step(step): float(minutes) for step, minutes in row["step_minutes"].items()},
        step_since=(Step(since_step), since_at) if since_step is not None else None,
        last_at=row["last_at"],
    )


def row_args(case_id: UUID, p: Progress) -> tuple[object, ...]:
    """The UPSERT parameters of a case's fold."""
    since_step, since_at = p.step_since if p.step_since is not None else (None, None)
    minutes = {step.value: value for step, value in p.step_minutes.items()}
    return (case_id, p.checked, p.reworked, p.extended, minutes, since_step, since_at, p.last_at)


def advance(held: Mapping[UUID, Progress], entries: Iterable[LogEntry]) -> dict[UUID, Progress]:
    """The folds of the cases these entries belong to, after them (a case without a fold starts afresh)."""
    folds: dict[UUID, Progress] = {}
    for e in entries:
        if e.case_id not in folds:
            before = held.get(e.case_id)
            folds[e.case_id] = replace(before, step_minutes=dict(before.step_minutes)) if before else Progress()
        folds[e.case_id].add(e)
    return folds


async def record(conn: Conn, entries: list[LogEntry]) -> None:
    """Fold a batch's new log entries into the rollup; called inside the batch's transaction."""
    if not entries:
        return
    ids = list(dict.fromkeys(e.case_id for e in entries))
    held = {r["case_id"]: progress_from_row(r) for r in await conn.fetch(LOAD, ids)}
    folds = advance(held, entries)
    await conn.executemany(UPSERT, [row_args(case_id, p) for case_id, p in folds.items()])


async def replace_all(conn: Conn, entries: Iterable[LogEntry]) -> None:
    """Replace the rollup by the fold of these entries (every case's whole log, each in order)."""
    await conn.execute("DELETE FROM metrics_rollup")
    folds = advance({}, entries)
    await conn.executemany(UPSERT, [row_args(case_id, p) for case_id, p in folds.items()])
