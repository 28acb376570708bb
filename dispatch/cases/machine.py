"""The case state machine: commands are checked against the case and become log entries; the case is the fold of
its log, so replaying the log rebuilds it exactly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import uuid5

from core.cases import (
    Actor,
    AttachEvent,
    CaseCommand,
    MergeCase,
    OpenCase,
    SplitEvent,
)
from core.vocabulary import Role
from dispatch.cases.decide import decide
from dispatch.cases.evolve import evolve
from dispatch.cases.record import GENESIS, CaseRecord, CommandRefused, Item, LogEntry, NotYours, entry_hash

__all__ = [
    "GENESIS",
    "CaseRecord",
    "CommandRefused",
    "LogEntry",
    "NotYours",
    "Outcome",
    "apply",
    "chain",
    "decide",
    "entry_hash",
    "evolve",
]


@dataclass(frozen=True)
class Outcome:
    """What applying a command produced: the new case, its log entries, and work it causes elsewhere."""

    case: CaseRecord
    entries: list[LogEntry]
    change: str
    follow_ups: tuple[CaseCommand, ...] = ()
    republish: tuple[dict[str, Any], ...] = ()


def apply(case: CaseRecord | None, command: CaseCommand, last_hash: str = GENESIS) -> Outcome:
    """Check one command against the case (None when it does not exist yet) and fold its entries in."""
    if case is None and not isinstance(command, OpenCase):
        raise CommandRefused(f"case {command.case_id} does not exist")
    items = decide(case, command)
    entries = chain(command, last_hash, case.version if case else 0, items)
    record = case
    for entry in entries:
        record = evolve(record, entry)
    assert record is not None
    return Outcome(record, entries, entries[-1].kind, *_effects(case, record, command))


def chain(cmd: CaseCommand, last_hash: str, last_seq: int, items: Sequence[Item]) -> list[LogEntry]:
    """The log entries for `items`, numbered after `last_seq` and hash-chained after `last_hash`."""
    entries: list[LogEntry] = []
    prev = last_hash
    for offset, item in enumerate(items, start=1):
        seq = last_seq + offset
        kind, payload, actor = item if len(item) == 3 else (*item, cmd.actor)
        digest = entry_hash(prev, cmd.case_id, seq, cmd.command_id, kind, actor, cmd.issued_at, payload)
        entries.append(LogEntry(cmd.case_id, seq, cmd.command_id, kind, actor, cmd.issued_at, payload, prev, digest))
        prev = digest
    return entries


# --- effects: work a command causes on other cases or topics ------------------------------------------------------


MERGER = Actor(id="system:merge", role=Role.SYSTEM)


def _effects(
    before: CaseRecord | None, after: CaseRecord, cmd: CaseCommand
) -> tuple[tuple[CaseCommand, ...], tuple[dict[str, Any], ...]]:
    if isinstance(cmd, MergeCase) and before is not None:
        follow = tuple(
            AttachEvent(
                command_id=uuid5(cmd.command_id, str(e.event_id)),
                case_id=cmd.into,
                issued_at=cmd.issued_at,
                actor=MERGER,
                source=e.source,
                event=e.event or {},
                from_case=before.id,
            )
            for e in before.detail.events
        )
        return follow, ()
    if isinstance(cmd, SplitEvent) and before is not None:
        raw = next(e.event for e in before.detail.events if e.event_id == cmd.event_id)
        return (), ((raw,) if raw else ())
    return (), ()
