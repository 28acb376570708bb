"""Build a redistricting plan for one county from its division lists before and after (e.g. 2019 → 2020).

Villages are matched by code and name (`matching.py`). The items then say what happened, in an order that
applies: renames; each new township made of villages of townships that continue (`create`); each abolished
township merged into its one successor (its villages moved first) or divided among several (`divide`); the
remaining villages moved between townships that continue. Every guess is listed in the plan's `review`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from core.plans import Create, Divide, Merge, MovedVillage, PlanItem, Recode, RedistrictingPlan, Rename, Review, Share
from dispatch.geometry.synthetic import Division
from dispatch.redistricting.matching import Lists, Matching, core_name, match, similarity

__all__ = ["INFERRED", "build_plan", "core_name", "similarity"]

INFERRED = "inferred: no name match in the new list"


class _Emitter:
    """The items in order, with which villages and townships exist at each point and which item moved each code."""

    def __init__(self, lists: Lists, m: Matching) -> None:
        self.lists, self.m = lists, m
        self.items: list[PlanItem] = []
        self.villages = set(lists.old_v)
        self.townships = set(lists.old_t)
        self.item_of: dict[str, int] = {}

    def add(self, item: PlanItem, *codes: str) -> None:
        self.items.append(item)
        for code in codes:
            self.item_of.setdefault(code, len(self.items))

    def move(self, code: str) -> MovedVillage:
        """A whole village into its successor (recoded when the code is free, else joining the village there)."""
        new = self.m.successor[code]
        self.villages.discard(code)
        self.villages.add(new)
        name = self.lists.new_v[new].name
        return MovedVillage(code=code, new_code=new, name=name if name != self.lists.old_v[code].name else None)

    def moves_as_items(self, codes: list[str]) -> None:
        """Plain items for villages moving between existing townships: a recode, or a merge into the village."""
        by_target: dict[str, list[str]] = defaultdict(list)
        for code in codes:
            by_target[self.m.successor[code]].append(code)
        for target, sources in sorted(by_target.items()):
            note = "matched by name" if all(s in self.m.by_name for s in sources) else INFERRED
            name = self.lists.new_v[target].name
            if target in self.villages:
                self.add(Merge(op="merge", sources=sources, into=target, note=note), *sources)
            elif len(sources) == 1:
                own = self.lists.old_v[sources[0]].name
                recode = Recode(op="recode", code=sources[0], new_code=target, name=name if name != own else None)
                self.add(recode.model_copy(update={"note": note}), *sources)
            else:
                merge = Merge(op="merge", sources=sources, into=target, name=name, parent=target[:9], note=note)
                self.add(merge, *sources)
            self.villages -= set(sources)
            self.villages.add(target)


def build_plan(
    before: list[Division], after: list[Division], county: str, plan_id: str, effective: date, legal_basis: str
) -> RedistrictingPlan:
    """The plan that turns the county's `before` list into its `after` list, with what it guessed to review."""
    lists = Lists.of(before, after, county)
    m = match(lists)
    e = _Emitter(lists, m)
    _renames(e)
    _creates(e)
    _abolished(e)
    rest = [c for c in sorted(lists.old_v) if c in m.successor and m.successor[c] != c and c in e.villages]
    e.moves_as_items(rest)
    review = [Review(code=code, item=e.item_of.get(code), reason=why) for code, why in sorted(m.review.items())]
    review += [
        Review(code=code, reason=f"{lists.new_v[code].name} ({code}) has no predecessor left: draw its area (create)")
        for code in m.unplaced
    ]
    return RedistrictingPlan(
        plan_id=plan_id,
        county=county,
        effective_date=effective,
        legal_basis=legal_basis,
        title=f"{county} {len(lists.old_t)}→{len(lists.new_t)} townships,"
        f" {len(lists.old_v)}→{len(lists.new_v)} villages",
        items=e.items,
        review=review,
    )


def _renames(e: _Emitter) -> None:
    old_v, new_v, old_t, new_t = e.lists.old_v, e.lists.new_v, e.lists.old_t, e.lists.new_t
    for c in sorted(old_v.keys() & new_v.keys()):
        if old_v[c].name != new_v[c].name:
            e.add(Rename(op="rename", code=c, name=new_v[c].name))
    for c in sorted(old_t.keys() & new_t.keys()):
        if old_t[c].name != new_t[c].name:
            e.add(Rename(op="rename", code=c, name=new_t[c].name))


def _abolished_successors(e: _Emitter) -> dict[str, list[str]]:
    """Each abolished township's successors (where its villages went), in code order."""
    found: dict[str, list[str]] = {}
    for code in sorted(e.lists.old_t.keys() - e.lists.new_t.keys()):
        found[code] = sorted({e.m.successor[v][:9] for v in e.lists.old_v if v[:9] == code and v in e.m.successor})
    return found


def _creates(e: _Emitter) -> None:
    """A new township receiving villages of townships that continue, or no abolished township, is created."""
    fed = {t for towns in _abolished_successors(e).values() for t in towns}
    for code in sorted(e.lists.new_t.keys() - e.lists.old_t.keys()):
        parts = [v for v in sorted(e.lists.old_v) if e.m.successor.get(v, "")[:9] == code and v[:9] in e.lists.new_t]
        if not parts and code in fed:
            continue
        if not parts:
            e.m.review[code] = f"{e.lists.new_t[code].name} ({code}) has no predecessor: not created"
            continue
        moves = [e.move(v) for v in parts]
        note = f"new township from {len(parts)} villages of townships that continue"
        e.add(Create(op="create", code=code, name=e.lists.new_t[code].name, villages=moves, note=note), *parts)
        e.townships.add(code)


def _abolished(e: _Emitter) -> None:
    """Each abolished township: divided among several successors, or merged into its one successor (townships
    merging into the same successor in one item, their villages moved first)."""
    merging: dict[str, list[str]] = defaultdict(list)
    for code, towns in _abolished_successors(e).items():
        if len(towns) == 1:
            merging[towns[0]].append(code)
            continue
        if not towns:  # no village to follow
            into = sorted(e.lists.new_t)[0]
            e.m.review[code] = f"{e.lists.old_t[code].name} ({code}) has no villages to follow: merged into {into}"
            merging[into].append(code)
            continue
        villages = [v for v in sorted(e.lists.old_v) if v[:9] == code and v in e.m.successor]
        shares = [
            Share(
                into=town,
                name=None if town in e.townships else e.lists.new_t[town].name,
                villages=[e.move(v) for v in villages if e.m.successor[v][:9] == town],
            )
            for town in towns
        ]
        note = f"divided among {len(towns)} successors by where its villages went"
        e.add(Divide(op="divide", code=code, shares=shares, note=note), code, *villages)
        e.townships.update(towns)
    for into, sources in sorted(merging.items()):
        e.moves_as_items([v for v in sorted(e.lists.old_v) if v[:9] in sources and v in e.m.successor])
        name = None if into in e.townships else e.lists.new_t[into].name
        e.add(Merge(op="merge", sources=sources, into=into, name=name, note="township merged (撤并)"), *sources)
        e.townships.add(into)
