"""Closed vocabularies shared by every process: categories, severities, parties, case states."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """What an event is about; drives routing and SLAs."""

    ENVIRONMENT = "environment"
    ROAD = "road"
    SAFETY = "safety"
    DISPUTE = "dispute"
    ILLEGAL_CONSTRUCTION = "illegal_construction"
    MARKET = "market"
    PUBLIC_ORDER = "public_order"
    FIRE = "fire"
    FLOOD = "flood"
    OTHER = "other"


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
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """Whether work remains on a case in this state."""
        return self not in (CaseState.CLOSED, CaseState.CANCELLED)
