"""What clients and the live hub read of a case: its view, its detail, and the change the writer publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from core.cases import Assignee, CaseSource, Frozen, StepSla
from core.categories import MinorCode
from core.enforcement import Decision, Evidence
from core.vocabulary import CaseState, EnforcementStage, SelfReport, Severity, Step


class AttachedEvent(Frozen):
    """An event that belongs to a case: the one that opened it, or a duplicate attached later."""

    source: CaseSource
    attached_at: AwareDatetime
    opening: bool = False
    event: dict[str, Any] | None = None

    @property
    def event_id(self) -> UUID:
        """The event's id."""
        return self.source.event_id

    @property
    def reporter_id(self) -> str:
        """Who reported it."""
        return self.source.reporter_id


class StageDone(Frozen):
    """An enforcement stage as recorded."""

    stage: EnforcementStage
    officers: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    decision: Decision | None = None
    by: str
    at: AwareDatetime


class LegalReview(Frozen):
    """The legal review (法制审核) of a proposed decision."""

    status: Literal["pending", "approved", "rejected"]
    decision: Decision
    requested_by: str
    reviewer: str | None = None
    opinion: str | None = None


class ExtensionAsked(Frozen):
    """An extension asked for and not yet decided."""

    until: AwareDatetime
    reason: str
    by: str


class CaseDetail(Frozen):
    """The parts of a case's state that are read with the case rather than queried across cases."""

    sla: StepSla = StepSla(accept_minutes=60, verify_minutes=240)
    events: tuple[AttachedEvent, ...] = ()
    handlers: tuple[str, ...] = ()
    stages: tuple[StageDone, ...] = ()
    review: LegalReview | None = None
    extension: ExtensionAsked | None = None
    self_report: SelfReport | None = None


class CaseView(Frozen):
    """The current state of a case as the command centre and phones see it."""

    id: UUID
    version: int
    state: CaseState
    category: MinorCode
    priority: Severity
    event_type: str
    description: str
    grid_code: str | None
    grid_name: str | None
    township_code: str | None
    township_name: str | None
    assignee: Assignee | None
    lon: float
    lat: float
    opened_at: datetime
    due_at: datetime | None
    updated_at: datetime
    event_count: int
    step: Step = Step.ACCEPT
    step_due_at: datetime | None = None
    closed_at: datetime | None = None
    rework_count: int = 0
    extension_count: int = 0
    supervision_level: int = 0
    merged_into: UUID | None = None
    stages_done: tuple[EnforcementStage, ...] = ()
    review_status: str | None = None
    extension_until: datetime | None = None
    reporters: tuple[str, ...] = Field(default=(), description="ids of the people whose reports the case holds")


class CaseChange(Frozen):
    """What the case writer publishes after it committed a command."""

    case_id: UUID
    version: int
    change: str
    at: AwareDatetime
    case: CaseView
    command_id: UUID | None = None
