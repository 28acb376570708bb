"""Case commands (to the single case writer) and case changes (from it), keyed by case id."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from core.categories import CategoryCode
from core.enforcement import Decision, Evidence
from core.events import MediaRef
from core.geo import LonLat
from core.inputs import NO_NUL, Instant
from core.vocabulary import EnforcementStage, PartyKind, SelfReport, Severity

CASE_NAMESPACE = UUID("5b0c7f0e-6a57-4d0e-9c39-2f1d6a6c0a11")


def case_id_for_event(event_id: UUID) -> UUID:
    """The id of the case an event opens: derived, so a replayed event finds the same case."""
    return uuid5(CASE_NAMESPACE, str(event_id))


class Frozen(BaseModel):
    """Base for immutable contract models that refuse unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(Frozen):
    """Who issued a command: a person with a role, the unit they serve and their team, or the system."""

    id: str
    role: str
    unit_code: str | None = None
    team_id: str | None = None


class PartyRef(Frozen):
    """A party as a client names it: kind and id only; its name comes from the registry."""

    kind: PartyKind
    id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)


class Assignee(PartyRef):
    """The party a case is dispatched to, named as the registry names it."""

    name: str = Field(pattern=NO_NUL)
    fallback: str | None = Field(default=None, pattern=NO_NUL, description="why a fallback duty post was chosen")


class CaseSource(Frozen):
    """The facts of the event that opened a case."""

    event_id: UUID
    event_type: str
    category: CategoryCode
    severity: Severity
    description: str
    location: LonLat
    reporter_id: str
    occurred_at: AwareDatetime
    reported_at: AwareDatetime
    media: tuple[MediaRef, ...] = Field(default=(), description="the reporter's photos, videos and documents")
    device_id: str | None = Field(default=None, max_length=64, description="the camera or sensor that raised it")


class CommandBase(Frozen):
    """Fields of every case command; `command_id` makes re-delivery harmless."""

    command_id: UUID
    case_id: UUID
    issued_at: AwareDatetime
    actor: Actor
    proof: str | None = Field(default=None, max_length=200, description="its issuer's HMAC (dispatch/cases/signing)")


class Placement(Frozen):
    """Where a case belongs (grid, village, township) and who has it."""

    grid_code: str
    grid_name: str
    village_code: str
    township_code: str
    township_name: str
    assignee: Assignee


class StepSla(Frozen):
    """How long the assignee has to accept and to verify a case (the rule's SLA is the time to finish)."""

    accept_minutes: int = Field(gt=0)
    verify_minutes: int = Field(gt=0)


class OpenCase(CommandBase, Placement):
    """Register a case from a located, routed event and dispatch it (受理登记 + 分类转办)."""

    kind: Literal["open"] = "open"
    source: CaseSource
    rule_id: int
    priority: Severity
    due_at: AwareDatetime
    sla: StepSla = StepSla(accept_minutes=60, verify_minutes=240)
    self_report: SelfReport | None = Field(default=None, description="the township's policy for self-reported cases")


class TransferCase(CommandBase, Placement):
    """Move an open case to other responsible people (e.g. the successor unit after redistricting)."""

    kind: Literal["transfer"] = "transfer"
    reason: str = Field(min_length=1, max_length=500)
    plan_id: str | None = None


class AttachEvent(CommandBase):
    """Attach a duplicate event (same category, near, recent) to an open case instead of opening another."""

    kind: Literal["attach"] = "attach"
    source: CaseSource
    event: dict[str, Any] = Field(description="the event as reported, kept so it can be split off again")
    from_case: UUID | None = None
    fallback: OpenCase | None = Field(default=None, description="opened instead if the case closed meanwhile")


class Supervise(CommandBase):
    """A supervision record (督办): by the clock when a step is overdue, or by a dispatcher or leader."""

    kind: Literal["supervise"] = "supervise"
    level: int = Field(ge=1, le=3)
    reason: str = Field(min_length=1, max_length=500)
    notified: tuple[str, ...] = ()


Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]
Note = Annotated[str, Field(default="", max_length=2000, pattern=NO_NUL)]


class AcceptBody(Frozen):
    """The assignee takes the case."""

    kind: Literal["accept"] = "accept"


class ReturnBody(Frozen):
    """The assignee returns it to the dispatcher as "not ours" (退回)."""

    kind: Literal["return"] = "return"
    reason: Reason


class AssignBody(Frozen):
    """The dispatcher dispatches (again) to a party of the case's township (分类转办), named by kind and id."""

    kind: Literal["assign"] = "assign"
    assignee: PartyRef
    reason: Reason


class VerifyBody(Frozen):
    """Verified on site (快速核查), by someone other than the reporter."""

    kind: Literal["verify"] = "verify"
    finding: Reason
    evidence: tuple[Evidence, ...] = Field(default=(), max_length=20)


class StartBody(Frozen):
    """Handling starts (研究处理)."""

    kind: Literal["start"] = "start"
    note: Note = ""


class SubmitBody(Frozen):
    """The result, with evidence of it."""

    kind: Literal["submit"] = "submit"
    summary: Reason
    evidence: tuple[Evidence, ...] = Field(min_length=1, max_length=20)


class CheckBody(Frozen):
    """The dispatcher checks the result: passed, or back for rework (返工)."""

    kind: Literal["check"] = "check"
    passed: bool
    note: Note = ""


class CloseBody(Frozen):
    """办结销号, after a passed check."""

    kind: Literal["close"] = "close"
    note: Note = ""


class CancelBody(Frozen):
    """Cancel an open case, with the reason."""

    kind: Literal["cancel"] = "cancel"
    reason: Reason


class ReopenBody(Frozen):
    """Reopen a closed or cancelled case."""

    kind: Literal["reopen"] = "reopen"
    reason: Reason


class MergeBody(Frozen):
    """Merge this case into another as a duplicate; its events move there."""

    kind: Literal["merge"] = "merge"
    into: UUID
    reason: Note = ""


class SplitBody(Frozen):
    """Split an attached event off into a case of its own."""

    kind: Literal["split"] = "split"
    event_id: UUID
    reason: Note = ""


class SuperviseBody(Frozen):
    """A dispatcher's or leader's own supervision note (督办)."""

    kind: Literal["supervise"] = "supervise"
    reason: Reason


class RequestExtensionBody(Frozen):
    """The assignee asks for more time (延期申请)."""

    kind: Literal["request_extension"] = "request_extension"
    until: Instant
    reason: Reason


class DecideExtensionBody(Frozen):
    """The dispatcher grants or refuses the extension asked for."""

    kind: Literal["decide_extension"] = "decide_extension"
    granted: bool
    note: Note = ""


class StageBody(Frozen):
    """One enforcement stage done, with its officers and evidence (全过程记录)."""

    kind: Literal["stage"] = "stage"
    stage: EnforcementStage
    officers: tuple[Annotated[str, Field(pattern=NO_NUL)], ...] = Field(min_length=1, max_length=10)
    evidence: tuple[Evidence, ...] = Field(default=(), max_length=50)
    decision: Decision | None = None
    note: Note = ""


class RequestReviewBody(Frozen):
    """Ask for the legal review (法制审核) of a proposed decision."""

    kind: Literal["request_review"] = "request_review"
    decision: Decision


class ReviewBody(Frozen):
    """The legal reviewer's opinion: approve or reject the proposed decision."""

    kind: Literal["review"] = "review"
    approved: bool
    opinion: Reason


CommandBody = Annotated[
    AcceptBody
    | ReturnBody
    | AssignBody
    | VerifyBody
    | StartBody
    | SubmitBody
    | CheckBody
    | CloseBody
    | CancelBody
    | ReopenBody
    | MergeBody
    | SplitBody
    | SuperviseBody
    | RequestExtensionBody
    | DecideExtensionBody
    | StageBody
    | RequestReviewBody
    | ReviewBody,
    Field(discriminator="kind"),
]
BODY_ADAPTER: TypeAdapter[CommandBody] = TypeAdapter(CommandBody)


class AcceptCase(CommandBase, AcceptBody):
    """Accept, as a command."""


class ReturnCase(CommandBase, ReturnBody):
    """Return, as a command."""


class AssignCase(CommandBase, AssignBody):
    """Assign, as a command: the party as the registry names it."""

    assignee: Assignee


class VerifyCase(CommandBase, VerifyBody):
    """Verify, as a command."""


class StartCase(CommandBase, StartBody):
    """Start handling, as a command."""


class SubmitResult(CommandBase, SubmitBody):
    """Submit the result, as a command."""


class CheckResult(CommandBase, CheckBody):
    """Check the result, as a command."""


class CloseCase(CommandBase, CloseBody):
    """Close, as a command."""


class CancelCase(CommandBase, CancelBody):
    """Cancel, as a command."""


class ReopenCase(CommandBase, ReopenBody):
    """Reopen, as a command."""


class MergeCase(CommandBase, MergeBody):
    """Merge as duplicate, as a command."""


class SplitEvent(CommandBase, SplitBody):
    """Split an event off, as a command."""


class RequestExtension(CommandBase, RequestExtensionBody):
    """Ask for an extension, as a command."""


class DecideExtension(CommandBase, DecideExtensionBody):
    """Grant or refuse an extension, as a command."""


class RecordStage(CommandBase, StageBody):
    """Record an enforcement stage, as a command."""


class RequestReview(CommandBase, RequestReviewBody):
    """Ask for legal review, as a command."""


class ReviewDecision(CommandBase, ReviewBody):
    """The legal review, as a command."""


CaseCommand = Annotated[
    OpenCase
    | TransferCase
    | AttachEvent
    | Supervise
    | AcceptCase
    | ReturnCase
    | AssignCase
    | VerifyCase
    | StartCase
    | SubmitResult
    | CheckResult
    | CloseCase
    | CancelCase
    | ReopenCase
    | MergeCase
    | SplitEvent
    | RequestExtension
    | DecideExtension
    | RecordStage
    | RequestReview
    | ReviewDecision,
    Field(discriminator="kind"),
]
COMMAND_ADAPTER: TypeAdapter[CaseCommand] = TypeAdapter(CaseCommand)
