"""The routing snapshot: everything routing needs, swapped whole on reload."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.categories import CategoryTable
from dispatch.routing.locate import GridIndex
from dispatch.routing.model import Directory
from dispatch.routing.rules import RuleBook
from dispatch.routing.self_report import SelfReportBook
from dispatch.routing.step_sla import StepSlaBook


@dataclass(frozen=True)
class RoutingSnapshot:
    """Everything routing needs, loaded together so one event never sees half a reload."""

    index: GridIndex
    book: RuleBook
    directory: Directory
    slas: StepSlaBook = field(default_factory=StepSlaBook)
    self_report: SelfReportBook = field(default_factory=SelfReportBook)
    categories: CategoryTable = field(default_factory=CategoryTable)
