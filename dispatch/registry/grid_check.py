"""Check a grid file's grids against the registry of their effective date: each names a village there, the grids of
each village tile it, each member is a serving grid member of the grid's township. Pure: no I/O."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from shapely.geometry.base import BaseGeometry

from dispatch.access.scope import TOWNSHIP_DIGITS
from dispatch.geometry.tiling import TilingFault, tiling_faults
from dispatch.registry.grid_rows import FILE, GridRow, Problem, feature_loc


@dataclass(frozen=True)
class Village:
    """A village of the registry on the effective date."""

    code: str
    name: str
    township: str
    geom: BaseGeometry


@dataclass(frozen=True)
class Member:
    """A serving grid member a file may name (by id, phone or account name)."""

    id: str
    name: str
    unit_code: str


@dataclass
class RegistryView:
    """What the check needs of the registry on `day`, within the importer's reach: villages, grid members by each key
    a file may use, and villages whose grids already have a version from `day` or later."""

    day: date
    villages: dict[str, Village]
    members: dict[str, list[Member]] = field(default_factory=dict)
    later: dict[str, date] = field(default_factory=dict)


@dataclass
class ImportPlan:
    """The checked grids, the villages whose grids they replace, who serves each grid, and what is wrong."""

    day: date
    rows: list[GridRow]
    villages: list[str]
    members: dict[str, Member]
    vacant: list[str]
    problems: list[Problem]


def check_grids(rows: list[GridRow], view: RegistryView) -> ImportPlan:
    """Every problem of the grids against the registry view; the plan is writable only when there are none."""
    problems: list[Problem] = []
    by_village: dict[str, list[GridRow]] = defaultdict(list)
    for row in rows:
        village = view.villages.get(row.village)
        if village is None:
            problems.append(
                Problem(
                    feature_loc(row.number),
                    f"grid {row.code} (feature {row.number}): no village {row.village} within your reach in the"
                    f" registry on {view.day}",
                    missing=True,
                )
            )
        else:
            by_village[row.village].append(row)
    for code in sorted(by_village):
        if code in view.later:
            problems.append(
                Problem(
                    feature_loc(by_village[code][0].number),
                    f"village {code}: its grids have a version from {view.later[code]}; use a later effective date",
                )
            )
        problems += _tiling(view.villages[code], by_village[code])
    members, vacant, wrong = _members(rows, view)
    problems += wrong
    problems.sort(key=lambda p: (p.loc[3] if len(p.loc) > 3 and isinstance(p.loc[3], int) else -1, p.msg))
    return ImportPlan(view.day, rows, sorted(by_village), members, vacant, problems)


def _tiling(village: Village, rows: list[GridRow]) -> list[Problem]:
    """The village's tiling faults, each at the feature of the grid it names (a gap: the first grid beside it)."""
    number = {r.code: r.number for r in rows}
    problems: list[Problem] = []
    for f in tiling_faults(village.code, village.geom, {r.code: r.geom for r in rows}):
        named = f.other[0] if f.kind == "gap" and f.other else f.code
        problems.append(Problem(feature_loc(number[named]) if named in number else FILE, _fault(village, f)))
    return problems


def _fault(village: Village, f: TilingFault) -> str:
    near = f" near {f.where[0]}, {f.where[1]}" if f.where else ""
    size = f"{f.square_metres:,.0f} m²"
    if f.kind == "overlap":
        return f"grid {f.code} overlaps grid {f.other[0]} by {size}{near}"
    if f.kind == "outside":
        return f"grid {f.code} extends {size} outside its village {village.code} ({village.name}){near}"
    if f.kind == "gap":
        beside = f" (beside {', '.join(f.other)})" if f.other else ""
        return f"village {village.code} ({village.name}): a gap of {size}{near} is covered by no grid{beside}"
    return f"grid {f.code}: {f.kind} {f.reason}".strip()


def _members(rows: list[GridRow], view: RegistryView) -> tuple[dict[str, Member], list[str], list[Problem]]:
    """Who serves each grid, the grids left vacant, and each member reference that names nobody fit to serve it."""
    members: dict[str, Member] = {}
    vacant: list[str] = []
    problems: list[Problem] = []
    for row in rows:
        if row.member is None:
            vacant.append(row.code)
            continue
        found = view.members.get(row.member, [])
        where = feature_loc(row.number)
        if not found:
            msg = (
                f"grid {row.code} (feature {row.number}): member {row.member!r} is no serving grid member within your"
                " reach (give a person id, an 11-digit phone or an account name)"
            )
            problems.append(Problem(where, msg, missing=True))
        elif len(found) > 1:
            names = ", ".join(m.id for m in found)
            msg = f"grid {row.code}: member {row.member!r} names {len(found)} people ({names})"
            problems.append(Problem(where, msg))
        elif not row.code.startswith(found[0].unit_code[:TOWNSHIP_DIGITS]):
            m = found[0]
            msg = f"grid {row.code}: member {m.id} ({m.name}) serves {m.unit_code}, outside this grid's township"
            problems.append(Problem(where, msg))
        else:
            members[row.code] = found[0]
    return members, sorted(vacant), problems
