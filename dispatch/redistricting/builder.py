"""Build a redistricting plan for one county from its division lists before and after (e.g. 2019 → 2020).

Villages are matched by code, then by their name without the committee suffix; what names cannot
settle is recorded as explicit merge items with a note saying it was inferred.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date

from core.plans import Merge, PlanItem, Recode, RedistrictingPlan, Rename
from dispatch.geometry.synthetic import Division

SUFFIXES = re.compile(r"(村村民委员会|村民委员会|社区居民委员会|居民委员会|居委会|村委会|社区|村)$")
TOWN_SUFFIXES = re.compile(r"(回族乡|藏族乡|镇|乡|街道)$")
INFERRED = "inferred: no name match in the new list"


def core_name(name: str) -> str:
    """A village's name without its committee suffix: 黄水村民委员会 and 黄水村村民委员会 are both 黄水."""
    previous = None
    while previous != name:
        previous, name = name, SUFFIXES.sub("", name)
    return name


def similarity(a: str, b: str) -> int:
    """How alike two core names are: shared characters, a shared first character counting double."""
    return len(set(a) & set(b)) + (1 if a[:1] == b[:1] else 0)


def build_plan(
    before: list[Division], after: list[Division], county: str, plan_id: str, effective: date, legal_basis: str
) -> RedistrictingPlan:
    """The plan that turns the county's `before` list into its `after` list."""
    old_t = {d.code: d for d in before if d.level == "township" and d.parent_code == county}
    new_t = {d.code: d for d in after if d.level == "township" and d.parent_code == county}
    old_v = {d.code: d for d in before if d.level == "village" and d.parent_code in old_t}
    new_v = {d.code: d for d in after if d.level == "village" and d.parent_code in new_t}

    renames: list[PlanItem] = [
        Rename(op="rename", code=c, name=new_v[c].name)
        for c in sorted(old_v.keys() & new_v.keys())
        if old_v[c].name != new_v[c].name
    ]
    renames += [
        Rename(op="rename", code=c, name=new_t[c].name)
        for c in sorted(old_t.keys() & new_t.keys())
        if old_t[c].name != new_t[c].name
    ]
    successor: dict[str, str] = {c: c for c in old_v.keys() & new_v.keys()}
    recodes = _match_by_name(old_v, new_v, successor)
    town_of = _township_successors(old_t, new_t, successor)
    merges = _merge_the_rest(old_v, new_v, successor, town_of)
    township_items = _township_merges(old_t, new_t, town_of)
    return RedistrictingPlan(
        plan_id=plan_id,
        county=county,
        effective_date=effective,
        legal_basis=legal_basis,
        title=f"{county} {len(old_t)}→{len(new_t)} townships, {len(old_v)}→{len(new_v)} villages",
        items=[*renames, *recodes, *merges, *township_items],
    )


def _match_by_name(old_v: dict[str, Division], new_v: dict[str, Division], successor: dict[str, str]) -> list[PlanItem]:
    taken = set(successor.values())
    by_name: dict[str, list[str]] = defaultdict(list)
    for code in sorted(new_v.keys() - taken):
        by_name[core_name(new_v[code].name)].append(code)
    items: list[PlanItem] = []
    for code in sorted(old_v.keys() - successor.keys()):
        candidates = [c for c in by_name.get(core_name(old_v[code].name), []) if c not in taken]
        if not candidates:
            continue
        target = min(candidates, key=lambda c: (c[:9] != old_v[code].parent_code, c))
        successor[code] = target
        taken.add(target)
        name = new_v[target].name if new_v[target].name != old_v[code].name else None
        items.append(Recode(op="recode", code=code, new_code=target, name=name, note="matched by name"))
    return items


def _township_successors(
    old_t: dict[str, Division], new_t: dict[str, Division], successor: dict[str, str]
) -> dict[str, str]:
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for old, new in successor.items():
        votes[old[:9]][new[:9]] += 1
    town_of: dict[str, str] = {}
    for code, unit in old_t.items():
        if code in new_t:
            town_of[code] = code
        elif votes[code]:
            town_of[code] = votes[code].most_common(1)[0][0]
        else:
            core = TOWN_SUFFIXES.sub("", unit.name)
            town_of[code] = max(sorted(new_t), key=lambda c: similarity(core, TOWN_SUFFIXES.sub("", new_t[c].name)))
    return town_of


def _merge_the_rest(
    old_v: dict[str, Division], new_v: dict[str, Division], successor: dict[str, str], town_of: dict[str, str]
) -> list[PlanItem]:
    """Give each unmatched old village a successor in its township's successor, covering every new village."""
    orphans = sorted(old_v.keys() - successor.keys())
    uncovered = sorted(new_v.keys() - set(successor.values()))
    for code in uncovered:  # every new village needs at least one predecessor's area
        town = new_v[code].parent_code
        pool = [o for o in orphans if town_of[old_v[o].parent_code] == town and o not in successor]
        if pool:
            best = max(pool, key=lambda o: similarity(core_name(old_v[o].name), core_name(new_v[code].name)))
            successor[best] = code
    for code in orphans:
        if code in successor:
            continue
        town = town_of[old_v[code].parent_code]
        here = sorted(c for c in new_v if new_v[c].parent_code == town)
        successor[code] = max(here, key=lambda c: similarity(core_name(old_v[code].name), core_name(new_v[c].name)))
    groups: dict[str, list[str]] = defaultdict(list)
    for code in orphans:
        groups[successor[code]].append(code)
    existing_targets = set(old_v) | {s for o, s in successor.items() if o not in orphans}
    items: list[PlanItem] = []
    for target in sorted(groups):
        new = target not in existing_targets
        items.append(
            Merge(
                op="merge",
                sources=groups[target],
                into=target,
                name=new_v[target].name if new else None,
                parent=new_v[target].parent_code if new else None,
                note=INFERRED,
            )
        )
    return items


def _township_merges(old_t: dict[str, Division], new_t: dict[str, Division], town_of: dict[str, str]) -> list[PlanItem]:
    groups: dict[str, list[str]] = defaultdict(list)
    for old, new in sorted(town_of.items()):
        if old != new:
            groups[new].append(old)
    return [
        Merge(
            op="merge",
            sources=sources,
            into=target,
            name=None if target in old_t else new_t[target].name,
            note="township merged (撤并)",
        )
        for target, sources in sorted(groups.items())
    ]
