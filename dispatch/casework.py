"""The case state machine: a pure function from (case, command) to the new case and its log entries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from core.cases import Actor, Assignee, CaseCommand, CaseView, CommandBase, OpenCase, TransferCase
from core.vocabulary import CaseState, Category, Severity

GENESIS = "0" * 64


@dataclass(frozen=True)
class CaseRecord:
    """A case's current state: the projection of its log."""

    id: UUID
    version: int
    state: CaseState
    category: Category
    priority: Severity
    event_type: str
    description: str
    grid_code: str | None
    grid_name: str | None
    village_code: str | None
    township_code: str | None
    township_name: str | None
    assignee: Assignee | None
    rule_id: int | None
    lon: float
    lat: float
    opened_at: datetime
    due_at: datetime | None
    updated_at: datetime
    event_count: int

    def view(self) -> CaseView:
        """The case as clients see it."""
        return CaseView(
            id=self.id,
            version=self.version,
            state=self.state,
            category=self.category,
            priority=self.priority,
            event_type=self.event_type,
            description=self.description,
            grid_code=self.grid_code,
            grid_name=self.grid_name,
            township_code=self.township_code,
            township_name=self.township_name,
            assignee=self.assignee,
            lon=self.lon,
            lat=self.lat,
            opened_at=self.opened_at,
            due_at=self.due_at,
            updated_at=self.updated_at,
            event_count=self.event_count,
        )


@dataclass(frozen=True)
class LogEntry:
    """One append-only entry of a case's log, chained to the previous one by hash."""

    case_id: UUID
    seq: int
    command_id: UUID
    kind: str
    actor: Actor
    at: datetime
    payload: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Outcome:
    """What applying a command produced."""

    case: CaseRecord
    entries: list[LogEntry]
    change: str


class CommandRefused(Exception):
    """The command is not allowed in the case's state or for its issuer; the reason says why."""


def entry_hash(
    prev_hash: str,
    case_id: UUID,
    seq: int,
    command_id: UUID,
    kind: str,
    actor: Actor,
    at: datetime,
    payload: dict[str, Any],
) -> str:
    """The tamper-evident hash of a log entry: SHA-256 over the previous hash and the canonical entry."""
    body = orjson.dumps(
        {
            "case_id": str(case_id),
            "seq": seq,
            "command_id": str(command_id),
            "kind": kind,
            "actor": actor.model_dump(),
            "at": at.isoformat(),
            "payload": payload,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def apply(case: CaseRecord | None, command: CaseCommand, last_hash: str = GENESIS) -> Outcome:
    """Apply one command to a case (None when it does not exist yet)."""
    if isinstance(command, OpenCase):
        return _open(case, command, last_hash)
    if isinstance(command, TransferCase):
        return _transfer(case, command, last_hash)
    raise CommandRefused(f"unknown command {type(command).__name__}")


def _open(case: CaseRecord | None, cmd: OpenCase, last_hash: str) -> Outcome:
    if case is not None:
        raise CommandRefused(f"case {cmd.case_id} already exists")
    src = cmd.source
    record = CaseRecord(
        id=cmd.case_id,
        version=0,
        state=CaseState.REGISTERED,
        category=src.category,
        priority=cmd.priority,
        event_type=src.event_type,
        description=src.description,
        grid_code=cmd.grid_code,
        grid_name=cmd.grid_name,
        village_code=cmd.village_code,
        township_code=cmd.township_code,
        township_name=cmd.township_name,
        assignee=None,
        rule_id=cmd.rule_id,
        lon=src.location.lon,
        lat=src.location.lat,
        opened_at=cmd.issued_at,
        due_at=None,
        updated_at=cmd.issued_at,
        event_count=1,
    )
    registered = {
        "event_id": str(src.event_id),
        "event_type": src.event_type,
        "category": src.category,
        "severity": src.severity,
        "reporter_id": src.reporter_id,
        "grid_code": cmd.grid_code,
        "lon": src.location.lon,
        "lat": src.location.lat,
    }
    dispatched = {
        "assignee": cmd.assignee.model_dump(mode="json"),
        "rule_id": cmd.rule_id,
        "priority": cmd.priority,
        "due_at": cmd.due_at.isoformat(),
    }
    entries = _chain(cmd, last_hash, 0, [("registered", registered), ("dispatched", dispatched)])
    record = replace(record, version=len(entries), state=CaseState.DISPATCHED, assignee=cmd.assignee, due_at=cmd.due_at)
    return Outcome(record, entries, "opened")


def _transfer(case: CaseRecord | None, cmd: TransferCase, last_hash: str) -> Outcome:
    if case is None:
        raise CommandRefused(f"case {cmd.case_id} does not exist")
    if not case.state.is_open:
        raise CommandRefused(f"case {cmd.case_id} is {case.state}: only open cases can be transferred")
    before = {
        "grid_code": case.grid_code,
        "township_code": case.township_code,
        "assignee": case.assignee.model_dump(mode="json") if case.assignee else None,
    }
    after = {
        "grid_code": cmd.grid_code,
        "township_code": cmd.township_code,
        "assignee": cmd.assignee.model_dump(mode="json"),
    }
    payload = {"from": before, "to": after, "reason": cmd.reason, "plan_id": cmd.plan_id}
    entries = _chain(cmd, last_hash, case.version, [("transferred", payload)])
    record = replace(
        case,
        version=case.version + 1,
        grid_code=cmd.grid_code,
        grid_name=cmd.grid_name,
        village_code=cmd.village_code,
        township_code=cmd.township_code,
        township_name=cmd.township_name,
        assignee=cmd.assignee,
        updated_at=cmd.issued_at,
    )
    return Outcome(record, entries, "transferred")


def _chain(cmd: CommandBase, last_hash: str, last_seq: int, items: list[tuple[str, dict[str, Any]]]) -> list[LogEntry]:
    entries: list[LogEntry] = []
    prev = last_hash
    for offset, (kind, payload) in enumerate(items, start=1):
        seq = last_seq + offset
        digest = entry_hash(prev, cmd.case_id, seq, cmd.command_id, kind, cmd.actor, cmd.issued_at, payload)
        entries.append(
            LogEntry(cmd.case_id, seq, cmd.command_id, kind, cmd.actor, cmd.issued_at, payload, prev, digest)
        )
        prev = digest
    return entries
