"""A case's state and its log entries, chained by hash; the refusals the state machine gives."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from core.cases import (
    Actor,
    Assignee,
    CaseDetail,
    CaseView,
)
from core.vocabulary import CaseState, Category, PartyKind, Severity, Step

GENESIS = "0" * 64
Payload = dict[str, Any]


@dataclass(frozen=True)
class CaseRecord:
    """A case's current state: the fold of its log."""

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
    step: Step = Step.DISPATCH
    step_due_at: datetime | None = None
    closed_at: datetime | None = None
    reporters: tuple[str, ...] = ()
    rework_count: int = 0
    extension_count: int = 0
    reopen_count: int = 0
    supervision_level: int = 0
    merged_into: UUID | None = None
    detail: CaseDetail = field(default_factory=CaseDetail)

    def view(self) -> CaseView:
        """The case as clients see it."""
        d = self.detail
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
            step=self.step,
            step_due_at=self.step_due_at,
            closed_at=self.closed_at,
            rework_count=self.rework_count,
            extension_count=self.extension_count,
            supervision_level=self.supervision_level,
            merged_into=self.merged_into,
            stages_done=tuple(s.stage for s in d.stages),
            review_status=d.review.status if d.review else None,
            extension_until=d.extension.until if d.extension else None,
            reporters=self.reporters,
        )

    @property
    def enforcement(self) -> bool:
        """Whether the township's enforcement team has it (综合执法 stages apply)."""
        return self.assignee is not None and self.assignee.kind is PartyKind.ENFORCEMENT


@dataclass(frozen=True)
class LogEntry:
    """One append-only entry of a case's log, chained to the previous one by hash."""

    case_id: UUID
    seq: int
    command_id: UUID
    kind: str
    actor: Actor
    at: datetime
    payload: Payload
    prev_hash: str
    hash: str


class CommandRefused(Exception):
    """The command is not allowed in the case's state or for its issuer; the reason says why."""


class NotYours(CommandRefused):
    """The command is refused because of who issued it, not because of the case's state."""


def entry_hash(
    prev_hash: str,
    case_id: UUID,
    seq: int,
    command_id: UUID,
    kind: str,
    actor: Actor,
    at: datetime,
    payload: Payload,
) -> str:
    """The tamper-evident hash of a log entry: SHA-256 over the previous hash and the canonical entry."""
    body = orjson.dumps(
        {
            "case_id": str(case_id),
            "seq": seq,
            "command_id": str(command_id),
            "kind": kind,
            "actor": {"id": actor.id, "role": actor.role},
            "at": at.isoformat(),
            "payload": payload,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()
