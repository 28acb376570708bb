"""The case state machine: commands are checked against the case and become log entries; the case is the fold of
its log, so replaying the log rebuilds it exactly."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import orjson

from core.cases import (
    AcceptCase,
    Actor,
    AssignCase,
    Assignee,
    AttachedEvent,
    AttachEvent,
    CancelCase,
    CaseCommand,
    CaseDetail,
    CaseSource,
    CaseView,
    CheckResult,
    CloseCase,
    DecideExtension,
    ExtensionAsked,
    LegalReview,
    MergeCase,
    OpenCase,
    RecordStage,
    ReopenCase,
    RequestExtension,
    RequestReview,
    ReturnCase,
    ReviewDecision,
    SplitEvent,
    StageDone,
    StartCase,
    StepSla,
    SubmitResult,
    Supervise,
    TransferCase,
    VerifyCase,
)
from core.enforcement import MAJOR_DECISIONS, STAGE_ORDER, STAGE_RULES, Decision, Evidence
from core.vocabulary import CaseState, Category, EnforcementStage, EvidenceKind, PartyKind, Role, Severity, Step

GENESIS = "0" * 64
DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.TOWNSHIP_LEADER, Role.COUNTY_SUPERVISOR, Role.ADMIN})
OPEN_STATES = frozenset(s for s in CaseState if s.is_open)
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


@dataclass(frozen=True)
class Outcome:
    """What applying a command produced: the new case, its log entries, and work it causes elsewhere."""

    case: CaseRecord
    entries: list[LogEntry]
    change: str
    follow_ups: tuple[CaseCommand, ...] = ()
    republish: tuple[dict[str, Any], ...] = ()


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


def chain(cmd: CaseCommand, last_hash: str, last_seq: int, items: list[tuple[str, Payload]]) -> list[LogEntry]:
    """The log entries for `items`, numbered after `last_seq` and hash-chained after `last_hash`."""
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


# --- deciding: is the command allowed, and what does it record ------------------------------------------------


def decide(case: CaseRecord | None, cmd: CaseCommand) -> list[tuple[str, Payload]]:
    """The log entries a command stands for, or CommandRefused with the reason."""
    if isinstance(cmd, OpenCase):
        return _open(case, cmd)
    assert case is not None
    rule = _RULES[type(cmd)]
    if case.state not in rule.states:
        raise CommandRefused(f"cannot {cmd.kind} a case that is {case.state.value}")
    rule.who(case, cmd.actor)
    entries: list[tuple[str, Payload]] = rule.entries(case, cmd)
    return entries


def _open(case: CaseRecord | None, cmd: OpenCase) -> list[tuple[str, Payload]]:
    if case is not None:
        raise CommandRefused(f"case {cmd.case_id} already exists")
    _system_only(None, cmd.actor)
    src = cmd.source
    registered = {
        "source": src.model_dump(mode="json"),
        "priority": cmd.priority.value,
        "grid_code": cmd.grid_code,
        "grid_name": cmd.grid_name,
        "village_code": cmd.village_code,
        "township_code": cmd.township_code,
        "township_name": cmd.township_name,
        "rule_id": cmd.rule_id,
        "sla": cmd.sla.model_dump(),
        "due_at": cmd.due_at.isoformat(),
    }
    return [("registered", registered), ("dispatched", _dispatch(cmd.assignee, cmd.issued_at, cmd.sla, None))]


def _dispatch(assignee: Assignee, at: datetime, sla: StepSla, reason: str | None) -> Payload:
    return {
        "assignee": assignee.model_dump(mode="json"),
        "reason": reason,
        **_enter(CaseState.DISPATCHED, Step.ACCEPT, at + timedelta(minutes=sla.accept_minutes)),
    }


def _enter(state: CaseState, step: Step, due: datetime | None) -> Payload:
    return {"state": state.value, "step": step.value, "step_due_at": due.isoformat() if due else None}


def _accept(case: CaseRecord, cmd: AcceptCase) -> list[tuple[str, Payload]]:
    due = cmd.issued_at + timedelta(minutes=case.detail.sla.verify_minutes)
    return [("accepted", _enter(CaseState.ACCEPTED, Step.VERIFY, due))]


def _return(case: CaseRecord, cmd: ReturnCase) -> list[tuple[str, Payload]]:
    due = cmd.issued_at + timedelta(minutes=case.detail.sla.accept_minutes)
    return [("returned", {"reason": cmd.reason, **_enter(CaseState.RETURNED, Step.DISPATCH, due)})]


def _assign(case: CaseRecord, cmd: AssignCase) -> list[tuple[str, Payload]]:
    return [("dispatched", _dispatch(cmd.assignee, cmd.issued_at, case.detail.sla, cmd.reason))]


def _verify(case: CaseRecord, cmd: VerifyCase) -> list[tuple[str, Payload]]:
    if cmd.actor.id in case.reporters:
        raise CommandRefused(f"{cmd.actor.id} reported this case and cannot verify it: someone else must")
    payload = {"finding": cmd.finding, "evidence": _evidence(cmd.evidence)}
    return [("verified", {**payload, **_enter(CaseState.VERIFIED, Step.HANDLE, case.due_at)})]


def _start(case: CaseRecord, cmd: StartCase) -> list[tuple[str, Payload]]:
    return [("started", {"note": cmd.note, **_enter(CaseState.IN_PROGRESS, Step.HANDLE, case.due_at)})]


def _submit(case: CaseRecord, cmd: SubmitResult) -> list[tuple[str, Payload]]:
    if case.enforcement and len(case.detail.stages) < len(STAGE_ORDER):
        missing = STAGE_ORDER[len(case.detail.stages)]
        raise CommandRefused(f"enforcement stage {missing.value} is not recorded yet")
    due = cmd.issued_at + timedelta(minutes=case.detail.sla.accept_minutes)
    payload = {"summary": cmd.summary, "evidence": _evidence(cmd.evidence)}
    return [("submitted", {**payload, **_enter(CaseState.SUBMITTED, Step.CHECK, due)})]


def _check(case: CaseRecord, cmd: CheckResult) -> list[tuple[str, Payload]]:
    if cmd.passed:
        due = cmd.issued_at + timedelta(minutes=case.detail.sla.accept_minutes)
        return [("checked", {"passed": True, "note": cmd.note, **_enter(CaseState.CHECKED, Step.CLOSE, due)})]
    if not cmd.note.strip():
        raise CommandRefused("a failed check needs a note saying what to rework")
    return [("checked", {"passed": False, "note": cmd.note, **_enter(CaseState.IN_PROGRESS, Step.HANDLE, case.due_at)})]


def _close(case: CaseRecord, cmd: CloseCase) -> list[tuple[str, Payload]]:
    return [("closed", {"note": cmd.note, **_enter(CaseState.CLOSED, Step.DONE, None)})]


def _cancel(case: CaseRecord, cmd: CancelCase) -> list[tuple[str, Payload]]:
    return [("cancelled", {"reason": cmd.reason, **_enter(CaseState.CANCELLED, Step.DONE, None)})]


def _reopen(case: CaseRecord, cmd: ReopenCase) -> list[tuple[str, Payload]]:
    due = cmd.issued_at + timedelta(minutes=case.detail.sla.accept_minutes)
    state, step = (CaseState.DISPATCHED, Step.ACCEPT) if case.assignee else (CaseState.REGISTERED, Step.DISPATCH)
    return [("reopened", {"reason": cmd.reason, **_enter(state, step, due)})]


def _merge(case: CaseRecord, cmd: MergeCase) -> list[tuple[str, Payload]]:
    if cmd.into == case.id:
        raise CommandRefused("a case cannot be merged into itself")
    payload = {"into": str(cmd.into), "reason": cmd.reason}
    return [("merged", {**payload, **_enter(CaseState.MERGED, Step.DONE, None)})]


def _attach(case: CaseRecord, cmd: AttachEvent) -> list[tuple[str, Payload]]:
    if any(e.event_id == cmd.source.event_id for e in case.detail.events):
        raise CommandRefused(f"event {cmd.source.event_id} is already on this case")
    payload = {
        "source": cmd.source.model_dump(mode="json"),
        "event": cmd.event,
        "from_case": str(cmd.from_case) if cmd.from_case else None,
    }
    return [("attached", payload)]


def _split(case: CaseRecord, cmd: SplitEvent) -> list[tuple[str, Payload]]:
    found = next((e for e in case.detail.events if e.event_id == cmd.event_id), None)
    if found is None:
        raise CommandRefused(f"event {cmd.event_id} is not on this case")
    if found.opening:
        raise CommandRefused(f"event {cmd.event_id} opened this case and cannot be split off")
    if not found.event:
        raise CommandRefused(f"event {cmd.event_id} came with a merged case: reopen that case instead")
    return [("split", {"event_id": str(cmd.event_id), "reason": cmd.reason})]


def _supervise(case: CaseRecord, cmd: Supervise) -> list[tuple[str, Payload]]:
    if cmd.actor.role == Role.SYSTEM and cmd.level <= case.supervision_level:
        raise CommandRefused(f"already supervised at level {case.supervision_level} for this step")
    payload = {
        "level": cmd.level,
        "reason": cmd.reason,
        "notified": list(cmd.notified),
        "step": case.step.value,
        "due_at": case.step_due_at.isoformat() if case.step_due_at else None,
    }
    return [("supervised", payload)]


def _request_extension(case: CaseRecord, cmd: RequestExtension) -> list[tuple[str, Payload]]:
    if case.detail.extension is not None:
        raise CommandRefused("an extension is already asked for and not yet decided")
    if case.due_at is not None and cmd.until <= case.due_at:
        raise CommandRefused(f"until must be later than the current deadline {case.due_at.isoformat()}")
    return [("extension_requested", {"until": cmd.until.isoformat(), "reason": cmd.reason})]


def _decide_extension(case: CaseRecord, cmd: DecideExtension) -> list[tuple[str, Payload]]:
    asked = case.detail.extension
    if asked is None:
        raise CommandRefused("no extension is asked for")
    payload: Payload = {"granted": cmd.granted, "note": cmd.note, "until": asked.until.isoformat()}
    if cmd.granted and case.step is Step.HANDLE:
        payload.update(_enter(case.state, Step.HANDLE, asked.until))
    return [("extension_decided", payload)]


def _stage(case: CaseRecord, cmd: RecordStage) -> list[tuple[str, Payload]]:
    _enforcement_only(case)
    done = case.detail.stages
    if len(done) == len(STAGE_ORDER):
        raise CommandRefused("every enforcement stage is already recorded")
    expected = STAGE_ORDER[len(done)]
    if cmd.stage is not expected:
        raise CommandRefused(f"stage {cmd.stage.value} cannot start before {expected.value} is recorded")
    rule = STAGE_RULES[cmd.stage]
    officers = set(cmd.officers)
    if len(officers) < rule.min_officers:
        raise CommandRefused(f"stage {cmd.stage.value} needs at least {rule.min_officers} officers named")
    photos = sum(1 for e in cmd.evidence if e.kind is EvidenceKind.PHOTO)
    documents = sum(1 for e in cmd.evidence if e.kind is EvidenceKind.DOCUMENT)
    if photos < rule.min_photos:
        raise CommandRefused(f"stage {cmd.stage.value} needs at least {rule.min_photos} photo(s)")
    if documents < rule.min_documents:
        raise CommandRefused(f"stage {cmd.stage.value} needs at least {rule.min_documents} document(s)")
    if rule.needs_decision:
        _decision_cleared(case, cmd.decision, officers)
    elif cmd.decision is not None:
        raise CommandRefused(f"stage {cmd.stage.value} takes no decision")
    payload = {
        "stage": cmd.stage.value,
        "officers": sorted(officers),
        "evidence": _evidence(cmd.evidence),
        "decision": cmd.decision.model_dump(mode="json") if cmd.decision else None,
        "note": cmd.note,
    }
    return [("stage", payload)]


def _decision_cleared(case: CaseRecord, decision: Decision | None, officers: set[str]) -> None:
    if decision is None:
        raise CommandRefused("the decide stage needs the decision")
    if not MAJOR_DECISIONS.is_major(decision):
        return
    review = case.detail.review
    if review is None or review.status != "approved":
        raise CommandRefused("a major decision needs an approved legal review (法制审核) first")
    if review.decision != decision:
        raise CommandRefused("the decision differs from the one the legal reviewer approved")
    if review.reviewer in officers:
        raise CommandRefused("the legal reviewer cannot be one of the deciding officers")


def _request_review(case: CaseRecord, cmd: RequestReview) -> list[tuple[str, Payload]]:
    _enforcement_only(case)
    if case.detail.review is not None and case.detail.review.status == "pending":
        raise CommandRefused("a legal review is already pending")
    if len(case.detail.stages) != STAGE_ORDER.index(EnforcementStage.DECIDE):
        raise CommandRefused("a legal review is asked for after the investigation and before the decision")
    return [("review_requested", {"decision": cmd.decision.model_dump(mode="json")})]


def _review(case: CaseRecord, cmd: ReviewDecision) -> list[tuple[str, Payload]]:
    _enforcement_only(case)
    if case.detail.review is None or case.detail.review.status != "pending":
        raise CommandRefused("no legal review is pending")
    return [("reviewed", {"approved": cmd.approved, "opinion": cmd.opinion})]


def _transfer(case: CaseRecord, cmd: TransferCase) -> list[tuple[str, Payload]]:
    before = {
        "grid_code": case.grid_code,
        "township_code": case.township_code,
        "assignee": case.assignee.model_dump(mode="json") if case.assignee else None,
    }
    after = {
        "grid_code": cmd.grid_code,
        "grid_name": cmd.grid_name,
        "village_code": cmd.village_code,
        "township_code": cmd.township_code,
        "township_name": cmd.township_name,
        "assignee": cmd.assignee.model_dump(mode="json"),
    }
    return [("transferred", {"from": before, "to": after, "reason": cmd.reason, "plan_id": cmd.plan_id})]


def _evidence(items: tuple[Evidence, ...]) -> list[Payload]:
    return [e.model_dump(mode="json") for e in items]


def _enforcement_only(case: CaseRecord) -> None:
    if not case.enforcement:
        raise CommandRefused("only cases of the enforcement team have enforcement stages and legal review")


# --- who may issue what ------------------------------------------------------------------------------------------


def _system_only(case: CaseRecord | None, actor: Actor) -> None:
    if actor.role != Role.SYSTEM:
        raise NotYours(f"only the system issues this command, not a {actor.role}")


def _in_scope(case: CaseRecord, actor: Actor) -> bool:
    if actor.role == Role.ADMIN:
        return True
    return bool(actor.unit_code and case.township_code and case.township_code.startswith(actor.unit_code))


def _dispatcher(case: CaseRecord, actor: Actor) -> None:
    if actor.role not in DISPATCH_ROLES:
        raise NotYours(f"a {actor.role} cannot do this: it is for the dispatcher or a leader")
    if not _in_scope(case, actor):
        raise NotYours(f"{actor.id} does not serve township {case.township_code}")


def _dispatcher_or_system(case: CaseRecord, actor: Actor) -> None:
    if actor.role != Role.SYSTEM:
        _dispatcher(case, actor)


def _assignee(case: CaseRecord, actor: Actor) -> None:
    a = case.assignee
    if a is None:
        raise NotYours("the case is not dispatched to anyone")
    mine = actor.id == a.id if a.kind is PartyKind.GRID_MEMBER else actor.team_id == a.id
    if not mine:
        raise NotYours(f"the case is dispatched to {a.name}, not to {actor.id}")


def _legal_reviewer(case: CaseRecord, actor: Actor) -> None:
    if actor.role != Role.LEGAL_REVIEWER:
        raise NotYours(f"a {actor.role} cannot review: it is for a legal reviewer")
    if not _in_scope(case, actor):
        raise NotYours(f"{actor.id} does not serve township {case.township_code}")
    if actor.id in case.detail.handlers:
        raise NotYours(f"{actor.id} handled this case and cannot review its decision")


@dataclass(frozen=True)
class _Rule:
    states: frozenset[CaseState]
    who: Any
    entries: Any


_BEFORE_RESULT = frozenset({CaseState.ACCEPTED, CaseState.VERIFIED, CaseState.IN_PROGRESS})
_RULES: dict[type, _Rule] = {
    TransferCase: _Rule(OPEN_STATES, _dispatcher_or_system, _transfer),
    AttachEvent: _Rule(OPEN_STATES, _system_only, _attach),
    Supervise: _Rule(OPEN_STATES, _dispatcher_or_system, _supervise),
    AcceptCase: _Rule(frozenset({CaseState.DISPATCHED}), _assignee, _accept),
    ReturnCase: _Rule(frozenset({CaseState.DISPATCHED}), _assignee, _return),
    AssignCase: _Rule(
        frozenset({CaseState.REGISTERED, CaseState.RETURNED, CaseState.DISPATCHED}), _dispatcher, _assign
    ),
    VerifyCase: _Rule(frozenset({CaseState.ACCEPTED}), _assignee, _verify),
    StartCase: _Rule(frozenset({CaseState.VERIFIED}), _assignee, _start),
    SubmitResult: _Rule(frozenset({CaseState.IN_PROGRESS}), _assignee, _submit),
    CheckResult: _Rule(frozenset({CaseState.SUBMITTED}), _dispatcher, _check),
    CloseCase: _Rule(frozenset({CaseState.CHECKED}), _dispatcher, _close),
    CancelCase: _Rule(OPEN_STATES, _dispatcher, _cancel),
    ReopenCase: _Rule(frozenset({CaseState.CLOSED, CaseState.CANCELLED}), _dispatcher, _reopen),
    MergeCase: _Rule(OPEN_STATES, _dispatcher, _merge),
    SplitEvent: _Rule(OPEN_STATES, _dispatcher, _split),
    RequestExtension: _Rule(_BEFORE_RESULT, _assignee, _request_extension),
    DecideExtension: _Rule(OPEN_STATES, _dispatcher, _decide_extension),
    RecordStage: _Rule(frozenset({CaseState.IN_PROGRESS}), _assignee, _stage),
    RequestReview: _Rule(frozenset({CaseState.IN_PROGRESS}), _assignee, _request_review),
    ReviewDecision: _Rule(frozenset({CaseState.IN_PROGRESS}), _legal_reviewer, _review),
}

_HANDLER_ENTRIES = frozenset({"accepted", "verified", "started", "submitted", "stage", "review_requested"})


# --- evolving: the case after one log entry (pure, no clock: everything needed is in the payload) --------------


def evolve(case: CaseRecord | None, entry: LogEntry) -> CaseRecord:
    """The case after `entry`; folding a case's whole log from None rebuilds it."""
    p = entry.payload
    if entry.kind == "registered":
        return _registered(entry)
    if case is None:
        raise ValueError(f"log of case {entry.case_id} does not start with registered (seq {entry.seq})")
    case = replace(case, version=entry.seq, updated_at=entry.at)
    if "state" in p:
        case = _entered(case, p, entry.at)
    detail = case.detail
    if entry.kind in _HANDLER_ENTRIES and entry.actor.id not in detail.handlers:
        detail = detail.model_copy(update={"handlers": (*detail.handlers, entry.actor.id)})
    if entry.kind == "stage":
        detail = detail.model_copy(update={"handlers": tuple(dict.fromkeys((*detail.handlers, *p["officers"])))})
    case = replace(case, detail=detail)
    change = _EVOLVE.get(entry.kind)
    return change(case, entry) if change else case


def _registered(entry: LogEntry) -> CaseRecord:
    p = entry.payload
    src = CaseSource.model_validate(p["source"])
    return CaseRecord(
        id=entry.case_id,
        version=entry.seq,
        state=CaseState.REGISTERED,
        category=src.category,
        priority=Severity(p["priority"]),
        event_type=src.event_type,
        description=src.description,
        grid_code=p["grid_code"],
        grid_name=p["grid_name"],
        village_code=p["village_code"],
        township_code=p["township_code"],
        township_name=p["township_name"],
        assignee=None,
        rule_id=p["rule_id"],
        lon=src.location.lon,
        lat=src.location.lat,
        opened_at=entry.at,
        due_at=datetime.fromisoformat(p["due_at"]),
        updated_at=entry.at,
        event_count=1,
        reporters=(src.reporter_id,),
        detail=CaseDetail(
            sla=StepSla.model_validate(p["sla"]),
            events=(
                AttachedEvent(event_id=src.event_id, reporter_id=src.reporter_id, attached_at=entry.at, opening=True),
            ),
        ),
    )


def _entered(case: CaseRecord, p: Payload, at: datetime) -> CaseRecord:
    step = Step(p["step"])
    state = CaseState(p["state"])
    return replace(
        case,
        state=state,
        step=step,
        step_due_at=datetime.fromisoformat(p["step_due_at"]) if p["step_due_at"] else None,
        supervision_level=0
        if step != case.step or p["step_due_at"] != _iso(case.step_due_at)
        else case.supervision_level,
        closed_at=at if not state.is_open else None,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _on_dispatched(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return replace(case, assignee=Assignee.model_validate(e.payload["assignee"]))


def _on_checked(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return case if e.payload["passed"] else replace(case, rework_count=case.rework_count + 1)


def _on_reopened(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return replace(case, reopen_count=case.reopen_count + 1)


def _on_merged(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return replace(case, merged_into=UUID(e.payload["into"]))


def _on_attached(case: CaseRecord, e: LogEntry) -> CaseRecord:
    src = CaseSource.model_validate(e.payload["source"])
    item = AttachedEvent(event_id=src.event_id, reporter_id=src.reporter_id, attached_at=e.at, event=e.payload["event"])
    return replace(
        case,
        event_count=case.event_count + 1,
        reporters=tuple(dict.fromkeys((*case.reporters, src.reporter_id))),
        detail=case.detail.model_copy(update={"events": (*case.detail.events, item)}),
    )


def _on_split(case: CaseRecord, e: LogEntry) -> CaseRecord:
    event_id = UUID(e.payload["event_id"])
    events = tuple(x for x in case.detail.events if x.event_id != event_id)
    return replace(
        case,
        event_count=case.event_count - 1,
        reporters=tuple(dict.fromkeys(x.reporter_id for x in events)),
        detail=case.detail.model_copy(update={"events": events}),
    )


def _on_supervised(case: CaseRecord, e: LogEntry) -> CaseRecord:
    return replace(case, supervision_level=max(case.supervision_level, e.payload["level"]))


def _on_extension_requested(case: CaseRecord, e: LogEntry) -> CaseRecord:
    asked = ExtensionAsked(until=datetime.fromisoformat(e.payload["until"]), reason=e.payload["reason"], by=e.actor.id)
    return replace(case, detail=case.detail.model_copy(update={"extension": asked}))


def _on_extension_decided(case: CaseRecord, e: LogEntry) -> CaseRecord:
    case = replace(case, detail=case.detail.model_copy(update={"extension": None}))
    if not e.payload["granted"]:
        return case
    return replace(case, due_at=datetime.fromisoformat(e.payload["until"]), extension_count=case.extension_count + 1)


def _on_stage(case: CaseRecord, e: LogEntry) -> CaseRecord:
    p = e.payload
    done = StageDone(
        stage=p["stage"],
        officers=tuple(p["officers"]),
        evidence=tuple(Evidence.model_validate(x) for x in p["evidence"]),
        decision=Decision.model_validate(p["decision"]) if p["decision"] else None,
        by=e.actor.id,
        at=e.at,
    )
    return replace(case, detail=case.detail.model_copy(update={"stages": (*case.detail.stages, done)}))


def _on_review_requested(case: CaseRecord, e: LogEntry) -> CaseRecord:
    review = LegalReview(
        status="pending", decision=Decision.model_validate(e.payload["decision"]), requested_by=e.actor.id
    )
    return replace(case, detail=case.detail.model_copy(update={"review": review}))


def _on_reviewed(case: CaseRecord, e: LogEntry) -> CaseRecord:
    assert case.detail.review is not None
    review = case.detail.review.model_copy(
        update={
            "status": "approved" if e.payload["approved"] else "rejected",
            "reviewer": e.actor.id,
            "opinion": e.payload["opinion"],
        }
    )
    return replace(case, detail=case.detail.model_copy(update={"review": review}))


def _on_transferred(case: CaseRecord, e: LogEntry) -> CaseRecord:
    to = e.payload["to"]
    return replace(
        case,
        grid_code=to["grid_code"],
        grid_name=to["grid_name"],
        village_code=to["village_code"],
        township_code=to["township_code"],
        township_name=to["township_name"],
        assignee=Assignee.model_validate(to["assignee"]),
    )


_EVOLVE = {
    "dispatched": _on_dispatched,
    "checked": _on_checked,
    "reopened": _on_reopened,
    "merged": _on_merged,
    "attached": _on_attached,
    "split": _on_split,
    "supervised": _on_supervised,
    "extension_requested": _on_extension_requested,
    "extension_decided": _on_extension_decided,
    "stage": _on_stage,
    "review_requested": _on_review_requested,
    "reviewed": _on_reviewed,
    "transferred": _on_transferred,
}


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
                source=_source_of(before, e),
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


def _source_of(case: CaseRecord, e: AttachedEvent) -> CaseSource:
    if e.event:
        return CaseSource.model_validate(
            {
                "event_id": e.event_id,
                "event_type": e.event.get("type", case.event_type),
                "category": e.event.get("category", case.category),
                "severity": e.event.get("severity", case.priority),
                "description": e.event.get("description", ""),
                "location": e.event.get("location", {"lon": case.lon, "lat": case.lat}),
                "reporter_id": e.reporter_id,
                "occurred_at": e.event.get("occurred_at", e.attached_at),
                "reported_at": e.event.get("reported_at", e.attached_at),
            }
        )
    return CaseSource.model_validate(
        {
            "event_id": e.event_id,
            "event_type": case.event_type,
            "category": case.category,
            "severity": case.priority,
            "description": case.description,
            "location": {"lon": case.lon, "lat": case.lat},
            "reporter_id": e.reporter_id,
            "occurred_at": case.opened_at,
            "reported_at": case.opened_at,
        }
    )
