"""Closed vocabularies shared by every process: severities, parties, case states (categories are data)."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How urgent the reporter judges it; ordered low < normal < high < urgent."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """Position in the order low < normal < high < urgent."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = [Severity.LOW, Severity.NORMAL, Severity.HIGH, Severity.URGENT]


class PartyKind(StrEnum):
    """Who can be dispatched: a grid's member, the township's enforcement team, a stationed agency."""

    GRID_MEMBER = "grid_member"
    ENFORCEMENT = "team"
    AGENCY = "agency"


class CaseState(StrEnum):
    """The six-step loop's states (受理登记→分类转办→快速核查→研究处理→跟踪督办→办结销号)."""

    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CHECKED = "checked"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    MERGED = "merged"

    @property
    def is_open(self) -> bool:
        """Whether work remains on a case in this state."""
        return self not in (CaseState.CLOSED, CaseState.CANCELLED, CaseState.MERGED)


class Step(StrEnum):
    """Whose move it is on a case, and so which clock runs (跟踪督办 watches these)."""

    DISPATCH = "dispatch"
    ACCEPT = "accept"
    VERIFY = "verify"
    HANDLE = "handle"
    CHECK = "check"
    CLOSE = "close"
    DONE = "done"


class Role(StrEnum):
    """What a person does; decides which case commands they may issue."""

    SYSTEM = "system"
    GRID_MEMBER = "grid_member"
    DUTY = "duty"
    OFFICER = "officer"
    LEGAL_REVIEWER = "legal_reviewer"
    AGENCY_STAFF = "agency_staff"
    DISPATCHER = "dispatcher"
    TOWNSHIP_LEADER = "township_leader"
    COUNTY_SUPERVISOR = "county_supervisor"
    ADMIN = "admin"


class EnforcementStage(StrEnum):
    """综合执法 stages, in order: 立案, 调查取证, 审查决定, 送达执行, 结案归档."""

    FILE = "file"
    INVESTIGATE = "investigate"
    DECIDE = "decide"
    SERVE = "serve"
    ARCHIVE = "archive"


class EvidenceKind(StrEnum):
    """What a piece of evidence is, judged from its bytes."""

    PHOTO = "photo"
    DOCUMENT = "document"


class SelfReport(StrEnum):
    """How a township verifies (快速核查) a case whose assignee reported it: a choice kept as data."""

    REPORTER_REPORT = "reporter_report"  # the reporter's on-site report, with its photos, counts as the verification
    DUTY_POST = "duty_post"  # the case goes to the village's (or the township's) duty post to verify and carry on
