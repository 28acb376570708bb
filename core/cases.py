"""Case commands (to the single case writer) and case changes (from it), keyed by case id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from core.geo import LonLat
from core.vocabulary import CaseState, Category, PartyKind, Severity

CASE_NAMESPACE = UUID("5b0c7f0e-6a57-4d0e-9c39-2f1d6a6c0a11")


def case_id_for_event(event_id: UUID) -> UUID:
    """The id of the case an event opens: derived, so a replayed event finds the same case."""
    return uuid5(CASE_NAMESPACE, str(event_id))


class Frozen(BaseModel):
    """Base for immutable contract models that refuse unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(Frozen):
    """Who issued a command: a person with a role, or the system."""

    id: str
    role: str


class Assignee(Frozen):
    """The party a case is dispatched to."""

    kind: PartyKind
    id: str
    name: str
    fallback: str | None = Field(default=None, description="why a fallback duty post was chosen")


class CaseSource(Frozen):
    """The facts of the event that opened a case."""

    event_id: UUID
    event_type: str
    category: Category
    severity: Severity
    description: str
    location: LonLat
    reporter_id: str
    occurred_at: AwareDatetime
    reported_at: AwareDatetime


class CommandBase(Frozen):
    """Fields of every case command; `command_id` makes re-delivery harmless."""

    command_id: UUID
    case_id: UUID
    issued_at: AwareDatetime
    actor: Actor


class Placement(Frozen):
    """Where a case belongs (grid, village, township) and who has it."""

    grid_code: str
    grid_name: str
    village_code: str
    township_code: str
    township_name: str
    assignee: Assignee


class OpenCase(CommandBase, Placement):
    """Register a case from a located, routed event and dispatch it (受理登记 + 分类转办)."""

    kind: Literal["open"] = "open"
    source: CaseSource
    rule_id: int
    priority: Severity
    due_at: AwareDatetime


class TransferCase(CommandBase, Placement):
    """Move an open case to other responsible people (e.g. the successor unit after redistricting)."""

    kind: Literal["transfer"] = "transfer"
    reason: str = Field(min_length=1, max_length=500)
    plan_id: str | None = None


CaseCommand = Annotated[OpenCase | TransferCase, Field(discriminator="kind")]
COMMAND_ADAPTER: TypeAdapter[CaseCommand] = TypeAdapter(CaseCommand)


class CaseView(Frozen):
    """The current state of a case as the command centre and phones see it."""

    id: UUID
    version: int
    state: CaseState
    category: Category
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


class CaseChange(Frozen):
    """What the case writer publishes after it committed a command."""

    case_id: UUID
    version: int
    change: str
    at: AwareDatetime
    case: CaseView
