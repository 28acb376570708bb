"""A case's state and its log entries, chained by hash; the refusals the state machine gives.

CaseRecord declares the case's stored fields once: dispatch/cases/columns.py derives the cases table's SQL from it and
view() copies every field CaseView shares with it. A new field is a line here (and in CaseView if public) plus a
migration."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from core.case_views import CaseDetail, CaseView
from core.cases import Actor, Assignee
from core.vocabulary import CaseState, PartyKind, Severity, Step
from dispatch.cases.seal import Seal
from dispatch.errors import Conflict, Forbidden

GENESIS = "0" * 64
Payload = dict[str, Any]
# A log entry to write: its kind and payload, and the actor when it is not the command's (a system entry).
Item = tuple[str, Payload] | tuple[str, Payload, Actor]


@dataclass(frozen=True)
class CaseRecord:
    """A case's current state: the fold of its log."""

    id: UUID
    version: int
    state: CaseState
    category: str  # a 小类 code
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
        """The case as clients see it: the fields CaseView shares with the record, and those read from the detail."""
        d = self.detail
        return CaseView.model_validate(
            {
                **{name: getattr(self, name) for name in _SHARED_WITH_VIEW},
                "stages_done": tuple(s.stage for s in d.stages),
                "review_status": d.review.status if d.review else None,
                "extension_until": d.extension.until if d.extension else None,
            }
        )

    @property
    def enforcement(self) -> bool:
        """Whether the township's enforcement team has it (综合执法 stages apply)."""
        return self.assignee is not None and self.assignee.kind is PartyKind.ENFORCEMENT


_SHARED_WITH_VIEW = tuple(name for name in CaseView.model_fields if name in {f.name for f in fields(CaseRecord)})


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
    seal: Seal | None = None
    """The keyed seal over `hash`; None on entries written before the chain was keyed."""

    @property
    def anchor(self) -> str:
        """What an anchor records of this entry: its MAC, or its hash when it has no seal."""
        return self.seal.mac if self.seal else self.hash


class CommandRefused(Conflict):
    """The command is not allowed in the case's state or for its issuer; the reason says why."""


class NotYours(Forbidden, CommandRefused):
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
