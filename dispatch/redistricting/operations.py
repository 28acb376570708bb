"""The operations reforms are made of beyond merges and splits: a unit created from parts of units that
continue, a township divided among several successors, a village moved to another township. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable

import shapely

from core.plans import Create, Divide, DrawnPart, MovedVillage, Reparent
from dispatch.geometry.synthetic import is_statistical_only
from dispatch.redistricting.model import Lineage, Unit
from dispatch.redistricting.outcome import ItemError, Outcome, drawn, move_area, move_village, need, need_new


def create(out: Outcome, item: Create, county: str) -> None:
    """设立: a new township (villages moved in whole, drawn areas into its villages) or a new village (drawn
    areas of villages that continue). Every source township gets an edge naming the share it gave."""
    need_new(out, item.code)
    if len(item.code) == 12:
        _create_village(out, item)
        return
    if item.code[:6] != county:
        raise ItemError(f"township {item.code} is not of county {county}")
    if not item.villages and not item.areas:
        raise ItemError(f"name the villages or drawn areas township {item.code} is made of")
    _check_moves(item.villages, item.code)
    for part in item.areas:
        if part.into is None or part.into[:9] != item.code:
            raise ItemError(f"each drawn area of a new township names `into`, a village of {item.code}")
    before = _townships(out)
    out.units[item.code] = Unit(
        item.code, item.name, "township", county, shapely.Polygon(), is_statistical_only(item.code)
    )
    sources = {need(out, m.code, "village").parent for m in item.villages}
    sources |= {need(out, p.source, "village").parent for p in item.areas}
    _move_in(out, item.villages, item.areas)
    for source in sorted(sources):
        share = _share(before[source], out, item.code, item.villages, item.areas)
        out.lineage.append(Lineage(source, item.code, "part_transferred_to", "township", share))


def _create_village(out: Outcome, item: Create) -> None:
    township = need(out, item.code[:9], "township")
    if item.villages:
        raise ItemError("a new village is made of drawn areas; to join whole villages, merge them")
    if not item.areas:
        raise ItemError(f"name the drawn areas village {item.code} is made of")
    if any(p.into not in (None, item.code) for p in item.areas):
        raise ItemError(f"the drawn areas of a new village go into it ({item.code}), not elsewhere")
    out.units[item.code] = Unit(
        item.code, item.name, "village", township.code, shapely.Polygon(), township.statistical_only
    )
    for n, part in enumerate(item.areas, start=1):
        move_area(out, part.source, item.code, drawn(part.area, f"area {n}"))


def divide(out: Outcome, item: Divide, county: str) -> None:
    """分设: every village of the township goes to one successor (whole, or minus drawn areas given to another);
    the township ends with an edge to each successor saying which villages and what share of the area went."""
    old = need(out, item.code, "township")
    _check_division(out, item, county)
    for share in item.shares:
        if share.into not in out.units and share.name is not None:
            out.units[share.into] = Unit(
                share.into, share.name, "township", county, shapely.Polygon(), is_statistical_only(share.into)
            )
    new_code = {m.code: m.new_code for s in item.shares for m in s.villages}
    for share in item.shares:
        for m in share.villages:
            move_village(out, m.code, m.new_code, m.name)
    for share in item.shares:  # a drawn area's source may be named by its old or its new code
        parts = [p.model_copy(update={"source": new_code.get(p.source, p.source)}) for p in share.areas]
        _move_in(out, [], parts)
    del out.units[item.code]
    for share in item.shares:
        out.lineage.append(
            Lineage(
                item.code,
                share.into,
                "divided_into",
                "township",
                _share(old, out, share.into, share.villages, share.areas),
            )
        )


def _check_division(out: Outcome, item: Divide, county: str) -> None:
    """Each village of the township goes to exactly one successor, each successor exists or is named."""
    intos = [s.into for s in item.shares]
    if len(set(intos)) != len(intos) or item.code in intos:
        raise ItemError("each successor appears once, and the divided township is not one of them")
    listed = [m.code for s in item.shares for m in s.villages]
    twice = sorted({c for c in listed if listed.count(c) > 1})
    if twice:
        raise ItemError(f"villages given to more than one successor: {', '.join(twice)}")
    own = {c for c, u in out.units.items() if u.level == "village" and u.parent == item.code}
    strangers, missing = sorted(set(listed) - own), sorted(own - set(listed))
    if strangers:
        raise ItemError(f"not villages of {item.code}: {', '.join(strangers)}")
    if missing:
        raise ItemError(f"villages of {item.code} given to no successor: {', '.join(missing)}")
    for share in item.shares:
        if share.into[:6] != county:
            raise ItemError(f"successor {share.into} is not of county {county}")
        if not share.villages and not share.areas:
            raise ItemError(f"successor {share.into} receives nothing: give it villages or drawn areas")
        if share.into in out.units:
            need(out, share.into, "township")
        elif share.name is None:
            raise ItemError(f"successor {share.into} does not exist; give `name` to create it")
        else:
            need_new(out, share.into)
        _check_moves(share.villages, share.into)
        if any(p.into is None or p.into[:9] != share.into for p in share.areas):
            raise ItemError(f"each drawn area given to {share.into} names `into`, a village of it")


def reparent(out: Outcome, item: Reparent) -> None:
    """改隶: a village moves whole to another township, under `new_code` or the same last digits there."""
    village = need(out, item.code, "village")
    need(out, item.parent, "township")
    if village.parent == item.parent:
        raise ItemError(f"village {item.code} already lies in township {item.parent}")
    new_code = item.new_code or _free_code(out, item.parent, item.code[9:])
    if new_code[:9] != item.parent:
        raise ItemError(f"new code {new_code} is not a code of township {item.parent}")
    need_new(out, new_code)
    move_village(out, item.code, new_code)


def _free_code(out: Outcome, township: str, suffix: str) -> str:
    """The same last three digits under the new township, else the next free number of their hundred."""
    block = int(suffix) // 100 * 100
    for n in [int(suffix), *range(block, block + 100)]:
        code = f"{township}{n:03d}"
        if code not in out.units and code not in out.gone:
            return code
    raise ItemError(f"township {township} has no free village code near {suffix}: give `new_code`")


def _check_moves(moves: Iterable[MovedVillage], township: str) -> None:
    for m in moves:
        if m.new_code[:9] != township:
            raise ItemError(f"village {m.code} moving into {township} needs a code of it, not {m.new_code}")


def _move_in(out: Outcome, moves: list[MovedVillage], parts: list[DrawnPart]) -> None:
    """Whole villages first, then drawn areas into villages of the unit (created when a part names them)."""
    for m in moves:
        move_village(out, m.code, m.new_code, m.name)
    for n, part in enumerate(parts, start=1):
        into = part.into or ""
        if into not in out.units:
            if part.name is None:
                raise ItemError(f"village {into} does not exist; give the area's `name` to create it")
            township = need(out, into[:9], "township")
            out.units[into] = Unit(into, part.name, "village", into[:9], shapely.Polygon(), township.statistical_only)
        move_area(out, part.source, into, drawn(part.area, f"area {n}"))


def _townships(out: Outcome) -> dict[str, Unit]:
    return {c: u for c, u in out.units.items() if u.level == "township"}


def _share(
    source: Unit, out: Outcome, into: str, moves: Iterable[MovedVillage], parts: Iterable[DrawnPart]
) -> dict[str, object]:
    """What a source township gave `into`: the villages moved (old codes) and the share of its area."""
    villages = sorted({m.code for m in moves if m.code[:9] == source.code})
    got = shapely.union_all([u.geom for u in out.units.values() if u.level == "village" and u.parent == into])
    area = source.geom.intersection(got).area / source.geom.area if source.geom.area else 0.0
    found: dict[str, object] = {"villages": villages, "area": round(area, 4)}
    areas = sorted({p.source for p in parts if p.source[:9] == source.code})
    if areas:
        found["drawn_from"] = areas
    return found
