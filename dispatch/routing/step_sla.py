"""Step SLAs as data: how long to accept and to verify, by unit, category (大类 or 小类) and priority (township before
county; within a unit the closest fit: a 小类 before a 大类 before any, then a named priority before any)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from core.cases import StepSla
from core.categories import covers, specificity
from dispatch.routing.model import valid_on

DEFAULT_STEP_SLA = StepSla(accept_minutes=60, verify_minutes=240)


@dataclass(frozen=True)
class StepSlaPolicy:
    """One row of the step SLA table; None in category or priority matches any."""

    unit_code: str
    accept_minutes: int
    verify_minutes: int
    category: str | None = None
    priority: str | None = None
    valid_from: date = date(1900, 1, 1)
    valid_to: date | None = None

    def specificity(self, category: str, priority: str, day: date) -> int:
        """How closely this policy fits (higher is closer), or -1 when it does not apply."""
        if not valid_on(self.valid_from, self.valid_to, day):
            return -1
        if not covers(self.category, category) or self.priority not in (None, priority):
            return -1
        return 2 * specificity(self.category) + (self.priority is not None)


class StepSlaBook:
    """Step SLA policies grouped by unit."""

    def __init__(self, policies: Iterable[StepSlaPolicy] = ()) -> None:
        self._by_unit: dict[str, list[StepSlaPolicy]] = {}
        for policy in policies:
            self._by_unit.setdefault(policy.unit_code, []).append(policy)

    def for_case(self, units: Iterable[str], category: str, priority: str, day: date) -> StepSla:
        """The closest policy of the most local unit that has one; the product default otherwise."""
        for unit in units:
            fits = [(p.specificity(category, priority, day), p) for p in self._by_unit.get(unit, ())]
            fits = [f for f in fits if f[0] >= 0]
            if fits:
                best = max(fits, key=lambda f: f[0])[1]
                return StepSla(accept_minutes=best.accept_minutes, verify_minutes=best.verify_minutes)
        return DEFAULT_STEP_SLA
