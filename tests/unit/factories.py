"""Small builders for unit tests: events, grids, rules and directories, no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import shapely

from core.vocabulary import PartyKind, Severity
from dispatch.routing.locate import GridIndex
from dispatch.routing.model import Directory, GridRef, Party, RoutingRule
from dispatch.routing.rules import RuleBook
from dispatch.routing.snapshot import RoutingSnapshot

COUNTY = "510822"
TOWN = "510822100"
VILLAGE = "510822100201"


def event_body(**overrides: Any) -> dict[str, Any]:
    """A valid incident as a phone would post it."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "type": "incident",
        "occurred_at": (now - timedelta(minutes=5)).isoformat(),
        "reported_at": now.isoformat(),
        "source": "phone",
        "reporter": {"id": "gm-510822100201001", "name": "王伟"},
        "location": {"lon": 105.05, "lat": 32.05},
        "category": "environment",
        "severity": "normal",
        "description": "垃圾堆放",
    }
    body.update(overrides)
    return body


def grid(
    code: str, x0: float, valid_from: date = date(2020, 1, 1), valid_to: date | None = None
) -> tuple[GridRef, Any]:
    """A 0.1-degree square grid starting at longitude x0, latitude 32.0."""
    ref = GridRef(code, f"网格{code[-3:]}", code[:12], code[:9], "乔庄镇", code[:6], valid_from, valid_to)
    return ref, shapely.box(x0, 32.0, x0 + 0.1, 32.1)


def rule(rule_id: int, position: int, target: PartyKind, unit: str = COUNTY, **kw: Any) -> RoutingRule:
    """A routing rule bound to a unit."""
    return RoutingRule(id=rule_id, unit_code=unit, position=position, target=target, sla_hours=kw.pop("sla", 48), **kw)


DEFAULT_RULES = [
    rule(1, 10, PartyKind.ENFORCEMENT, event_type="enforcement_lead", priority=Severity.HIGH),
    rule(2, 20, PartyKind.AGENCY, category="09", agency_type="market"),
    rule(3, 30, PartyKind.ENFORCEMENT, category="12", min_severity=Severity.HIGH),
    rule(4, 1000, PartyKind.GRID_MEMBER),
]


def directory(with_member: bool = True) -> Directory:
    """One grid member, duty posts, one enforcement team and one market agency for the test township."""
    members = {f"{VILLAGE}001": Party(PartyKind.GRID_MEMBER, "gm-1", "王伟")} if with_member else {}
    return Directory(
        grid_members=members,
        duty_posts={
            VILLAGE: Party(PartyKind.GRID_MEMBER, "duty-v", "李村干"),
            TOWN: Party(PartyKind.GRID_MEMBER, "duty-t", "张镇干"),
        },
        enforcement_teams={TOWN: Party(PartyKind.ENFORCEMENT, "enf-1", "乔庄镇综合行政执法队")},
        agencies={(TOWN, "market"): Party(PartyKind.AGENCY, "market-1", "乔庄镇市场监管所")},
    )


def snapshot(rules: list[RoutingRule] | None = None, with_member: bool = True) -> RoutingSnapshot:
    """Two adjacent grids at lon 105.0–105.2 with the default rules."""
    index = GridIndex([grid(f"{VILLAGE}001", 105.0), grid(f"{VILLAGE}002", 105.1)])
    return RoutingSnapshot(index, RuleBook(rules if rules is not None else DEFAULT_RULES), directory(with_member))
