"""What a signed-in user may see: the cases, the area of the map and the queues their role and unit reach.

One `Scope` answers twice: as a SQL condition for every query, and as a predicate for the live channel.
Codes are hierarchical (county 6 digits, township 9, village 12, grid 15), so an area is a code prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.case_views import CaseView
from core.vocabulary import PartyKind, Role

AREA_ROLES = frozenset({Role.DISPATCHER, Role.TOWNSHIP_LEADER, Role.COUNTY_SUPERVISOR})
TEAM_ROLES = frozenset({Role.OFFICER, Role.LEGAL_REVIEWER, Role.AGENCY_STAFF})
FIELD_ROLES = frozenset({Role.GRID_MEMBER, Role.DUTY})
EVERYWHERE = frozenset({Role.ADMIN})
# A system account is an intake gateway (hotline, sensors): it posts events and media and reads no case.
NOWHERE = frozenset({Role.SYSTEM})
COMMAND_CENTRE = AREA_ROLES | {Role.ADMIN}
TEAM_KINDS = (PartyKind.ENFORCEMENT.value, PartyKind.AGENCY.value)
TOWNSHIP_DIGITS = 9
COUNTY_DIGITS = 6

MY_GRIDS = (
    "SELECT gp.grid_code FROM grid_posts gp WHERE gp.person_id = {p}"
    " AND gp.valid_from <= current_date AND (gp.valid_to IS NULL OR current_date < gp.valid_to)"
)


@dataclass(frozen=True)
class Scope:
    """A user's reach: their role, the unit it is bound to, and who they are in the registry."""

    username: str
    role: Role
    unit_code: str
    person_id: str | None = None
    team_id: str | None = None
    grids: frozenset[str] = field(default_factory=frozenset)

    @property
    def area(self) -> str:
        """The code prefix of the region the user works in ('' for the whole deployment)."""
        if self.role in EVERYWHERE:
            return ""
        if self.role in NOWHERE or self.role is Role.COUNTY_SUPERVISOR:
            return self.unit_code[:COUNTY_DIGITS]
        return self.unit_code[:TOWNSHIP_DIGITS]

    @property
    def me(self) -> str:
        """The person id cases are assigned to and reports are filed under."""
        return self.person_id or self.username

    def sees(self, case: CaseView) -> bool:
        """Whether a case (as the live channel carries it) is within reach."""
        if self.role in EVERYWHERE:
            return True
        if self.role in NOWHERE:
            return False
        if self.role in AREA_ROLES:
            return (case.township_code or "").startswith(self.area)
        a = case.assignee
        if self.role in TEAM_ROLES:
            return a is not None and a.kind.value in TEAM_KINDS and a.id == self.team_id
        if (a is not None and a.id == self.me) or self.me in case.reporters:
            return True
        grid = case.grid_code or ""
        return grid in self.grids or (self.role is Role.DUTY and grid.startswith(self.unit_code))

    def case_sql(self, args: list[object], alias: str = "") -> str:
        """A SQL condition on `cases` (aliased `alias`) for this scope; its parameters are appended to `args`."""
        c = f"{alias}." if alias else ""
        if self.role in EVERYWHERE:
            return "TRUE"
        if self.role in NOWHERE:
            return "FALSE"
        if self.role in AREA_ROLES:
            return f"starts_with({c}township_code, {_param(args, self.area)})"
        if self.role in TEAM_ROLES:
            kinds = _param(args, list(TEAM_KINDS))
            return f"({c}assignee_kind = ANY({kinds}::text[]) AND {c}assignee_id = {_param(args, self.team_id or '')})"
        p = _param(args, self.me)
        mine = (
            f"({c}assignee_id = {p} OR {c}grid_code IN ({MY_GRIDS.format(p=p)})"
            f" OR {c}id IN (SELECT ce.case_id FROM case_events ce WHERE ce.reporter_id = {p} AND ce.split_at IS NULL)"
        )
        if self.role is Role.DUTY:
            mine += f" OR starts_with({c}grid_code, {_param(args, self.unit_code)})"
        return mine + ")"

    def area_sql(self, column: str, args: list[object]) -> str:
        """A SQL condition that a code column lies in the user's area."""
        if not self.area:
            return "TRUE"
        return f"starts_with({column}, {_param(args, self.area)})"


def _param(args: list[object], value: object) -> str:
    args.append(value)
    return f"${len(args)}"


OPERATOR = Scope("gridctl", Role.ADMIN, "")
"""The operator at the server's command line, who sees everything."""
