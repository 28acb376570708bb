"""Self-reported cases at routing: a grid member reporting in their own grid, under the township's policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.vocabulary import PartyKind, SelfReport
from dispatch.routing.model import Directory, GridRef
from dispatch.routing.rules import Routing

DEFAULT_SELF_REPORT = SelfReport.REPORTER_REPORT


class SelfReportBook:
    """Each unit's policy (a township's row before its county's); the product default where none is set."""

    def __init__(self, policies: Mapping[str, SelfReport] | None = None) -> None:
        self._by_unit = dict(policies or {})

    def for_units(self, units: Iterable[str]) -> SelfReport:
        """The policy of the most local unit that has one."""
        return next((self._by_unit[u] for u in units if u in self._by_unit), DEFAULT_SELF_REPORT)


def self_reported(
    routing: Routing, reporter_id: str, grid: GridRef, directory: Directory, policy: SelfReport
) -> tuple[Routing, SelfReport]:
    """Under `duty_post`, a case routed to its own reporter goes to the village's (else the township's) duty post;
    with no duty post, the reporter's report counts as verification after all, and the fallback note says so."""
    mine = routing.party.kind is PartyKind.GRID_MEMBER and routing.party.id == reporter_id
    if not mine or policy is not SelfReport.DUTY_POST:
        return routing, policy
    for unit, label in ((grid.village_code, "village duty post"), (grid.township_code, "township duty post")):
        duty = directory.duty_posts.get(unit)
        if duty is not None and duty.id != reporter_id:
            return Routing(
                routing.rule, duty, f"reported by {reporter_id}, its own grid member: {label} verifies"
            ), policy
    note = f"reported by {reporter_id}, its own grid member, and no duty post: the report counts as verification"
    return Routing(routing.rule, routing.party, note), SelfReport.REPORTER_REPORT
