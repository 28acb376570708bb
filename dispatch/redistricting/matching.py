"""Which village of the new list each village of the old list became, and where each old township went.

Villages are matched by code, then by their name without the committee suffix. What names cannot settle is
guessed (a new village with no predecessor takes an unmatched old village, preferring its township's family and a
similar name; an unmatched old village joins the most similar village of its township's successor) and every
guess is recorded as a review item. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from dispatch.geometry.synthetic import Division

SUFFIXES = re.compile(r"(村村民委员会|村民委员会|社区居民委员会|居民委员会|居委会|村委会|社区|村)$")
TOWN_SUFFIXES = re.compile(r"(回族乡|藏族乡|镇|乡|街道)$")


def core_name(name: str) -> str:
    """A village's name without its committee suffix: 黄水村民委员会 and 黄水村村民委员会 are both 黄水."""
    previous = None
    while previous != name:
        previous, name = name, SUFFIXES.sub("", name)
    return name


def similarity(a: str, b: str) -> int:
    """How alike two core names are: shared characters, a shared first character counting double."""
    return len(set(a) & set(b)) + (1 if a[:1] == b[:1] else 0)


@dataclass
class Lists:
    """One county's townships and villages before and after."""

    old_t: dict[str, Division]
    new_t: dict[str, Division]
    old_v: dict[str, Division]
    new_v: dict[str, Division]

    @classmethod
    def of(cls, before: list[Division], after: list[Division], county: str) -> Lists:
        old_t = {d.code: d for d in before if d.level == "township" and d.parent_code == county}
        new_t = {d.code: d for d in after if d.level == "township" and d.parent_code == county}
        old_v = {d.code: d for d in before if d.level == "village" and d.parent_code in old_t}
        new_v = {d.code: d for d in after if d.level == "village" and d.parent_code in new_t}
        return cls(old_t, new_t, old_v, new_v)


@dataclass
class Matching:
    """Each old village's successor, how it was established, and the guesses to review (unit code → reason)."""

    successor: dict[str, str] = field(default_factory=dict)
    by_name: set[str] = field(default_factory=set)
    review: dict[str, str] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)

    def successors_of(self, township: str) -> list[str]:
        """The new townships an old township's villages went to, most villages first."""
        votes = Counter(new[:9] for old, new in self.successor.items() if old[:9] == township)
        return [t for t, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))]


def match(lists: Lists) -> Matching:
    """Every old village's successor: by code, by name, then guessed (with a review item for each guess)."""
    m = Matching(successor={c: c for c in lists.old_v.keys() & lists.new_v.keys()})
    _match_by_name(lists, m)
    hints = _township_hints(lists, m)
    _cover_new_villages(lists, m, hints)
    _place_orphans(lists, m, hints)
    return m


def _match_by_name(lists: Lists, m: Matching) -> None:
    taken = set(m.successor.values())
    by_name: dict[str, list[str]] = defaultdict(list)
    for code in sorted(lists.new_v.keys() - taken):
        by_name[core_name(lists.new_v[code].name)].append(code)
    for code in sorted(lists.old_v.keys() - m.successor.keys()):
        candidates = [c for c in by_name.get(core_name(lists.old_v[code].name), []) if c not in taken]
        if candidates:
            target = min(candidates, key=lambda c: (c[:9] != lists.old_v[code].parent_code, c))
            m.successor[code] = target
            m.by_name.add(code)
            taken.add(target)


def _township_hints(lists: Lists, m: Matching) -> dict[str, list[str]]:
    """For each old township, the new townships its unmatched villages most likely went to, best first: itself
    when it continues, where its matched villages went, the township of a new village bearing its name."""
    village_by_core: dict[str, list[str]] = defaultdict(list)
    for _, v in sorted(lists.new_v.items()):
        village_by_core[core_name(v.name)].append(v.parent_code)
    hints: dict[str, list[str]] = {}
    for code, town in sorted(lists.old_t.items()):
        core = TOWN_SUFFIXES.sub("", town.name)
        found = [code] if code in lists.new_t else []
        found += m.successors_of(code) + village_by_core.get(core, [])
        if not found:
            found = [
                max(sorted(lists.new_t), key=lambda c: similarity(core, TOWN_SUFFIXES.sub("", lists.new_t[c].name)))
            ]
            m.review[code] = f"no village of {town.name} kept its code or name: assumed it went to {found[0]} by name"
        hints[code] = list(dict.fromkeys(found))
    return hints


def _cover_new_villages(lists: Lists, m: Matching, hints: dict[str, list[str]]) -> None:
    """Every new village needs a predecessor's area: take an unmatched old village of its township's family
    (else of the county), the most similar name first."""
    orphans = [o for o in sorted(lists.old_v) if o not in m.successor]
    covered = set(m.successor.values())
    for family_only in (True, False):
        for code in sorted(c for c in lists.new_v if c not in covered):
            town = lists.new_v[code].parent_code
            pool = [o for o in orphans if o not in m.successor and (not family_only or town in hints[o[:9]])]
            if not pool:
                continue
            core = core_name(lists.new_v[code].name)
            best = max(pool, key=lambda o: (similarity(core_name(lists.old_v[o].name), core), o))
            m.successor[best] = code
            covered.add(code)
            where = "" if family_only else f" (outside {lists.old_t[best[:9]].name}'s usual successors)"
            m.review[best] = (
                f"{lists.new_v[code].name} ({code}) has no predecessor by code or name: assumed it is"
                f" {lists.old_v[best].name} ({best}){where}"
            )
    m.unplaced = sorted(c for c in lists.new_v if c not in covered)


def _place_orphans(lists: Lists, m: Matching, hints: dict[str, list[str]]) -> None:
    """An old village still without successor joins the most similar village of its township's first successor."""
    for code in sorted(lists.old_v):
        if code in m.successor:
            continue
        town = hints[code[:9]][0]
        here = sorted(c for c in lists.new_v if lists.new_v[c].parent_code == town)
        if not here:
            m.review[code] = f"{lists.old_v[code].name} ({code}): nowhere to go in {town}"
            continue
        core = core_name(lists.old_v[code].name)
        target = max(here, key=lambda c: (similarity(core, core_name(lists.new_v[c].name)), c))
        m.successor[code] = target
        m.review[code] = (
            f"{lists.old_v[code].name} ({code}) has no successor by code or name: assumed it joined"
            f" {lists.new_v[target].name} ({target})"
        )
