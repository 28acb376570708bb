"""The default rule for people when a plan applies: carried to the successor or ended, a divided unit's staff to the
largest successor (for review), grid members after their grids, staff items first and checked."""

from __future__ import annotations

from shapely.geometry import box

from core.plans import StaffItem
from dispatch.redistricting.model import Lineage, Unit
from dispatch.redistricting.staff_rule import (
    Decision,
    Serving,
    StaffPlan,
    Team,
    decide,
    item_errors,
    predecessors,
    successors,
)
from dispatch.redistricting.validate import plan_error_loc

OLD, KEPT, BIG, SMALL = "510822108", "510822100", "510822190", "510822191"
BEFORE = {
    OLD: Unit(OLD, "旧乡", "township", "510822", box(0, 0, 2, 1)),
    KEPT: Unit(KEPT, "乔庄镇", "township", "510822", box(2, 0, 4, 1)),
}
TEAMS = [
    Team(f"enf-{KEPT}", "enforcement", None, KEPT),
    Team(f"market-{KEPT}", "agency", "market", KEPT),
    Team(f"enf-{BIG}", "enforcement", None, BIG),
    Team(f"enf-{SMALL}", "enforcement", None, SMALL),
]


def officer(unit: str = OLD, n: int = 1) -> Serving:
    return Serving(f"off-{unit}-{n}", "officer", unit, f"enf-{unit}", "enforcement")


def merged() -> dict[str, list[str]]:
    after = {KEPT: Unit(KEPT, "乔庄镇", "township", "510822", box(0, 0, 4, 1))}
    return successors(BEFORE, after, [Lineage(OLD, KEPT, "merged_into", "township")])


def divided() -> dict[str, list[str]]:
    after = {
        KEPT: BEFORE[KEPT],
        BIG: Unit(BIG, "大镇", "township", "510822", box(0, 0, 1.5, 1)),
        SMALL: Unit(SMALL, "小镇", "township", "510822", box(1.5, 0, 2, 1)),
    }
    return successors(BEFORE, after, [])


def test_staff_of_a_merged_township_are_carried_into_the_same_team_of_its_successor() -> None:
    heirs = merged()
    assert heirs == {OLD: [KEPT]}
    people = [
        officer(),
        Serving(f"disp-{OLD}", "dispatcher", OLD),
        Serving(f"market-{OLD}-1", "agency_staff", OLD, f"market-{OLD}", "agency", "market"),
    ]
    assert decide(people, {}, heirs, TEAMS) == [
        Decision(f"off-{OLD}-1", "carry", KEPT, f"enf-{KEPT}", f"{OLD} → {KEPT}"),
        Decision(f"disp-{OLD}", "carry", KEPT, None, f"{OLD} → {KEPT}"),
        Decision(f"market-{OLD}-1", "carry", KEPT, f"market-{KEPT}", f"{OLD} → {KEPT}"),
    ]


def test_a_duty_post_ends_with_its_unit_and_a_missing_team_ends_the_person_for_review() -> None:
    police = Serving(f"police-{OLD}-1", "agency_staff", OLD, f"police-{OLD}", "agency", "police")
    found = decide([Serving(f"duty-{OLD}", "duty", OLD), police], {}, merged(), TEAMS)
    assert [(d.action, bool(d.review)) for d in found] == [("end", False), ("end", True)]
    assert "has no police team" in found[1].reason
    assert StaffPlan(found).counts() == {"people_carried": 0, "people_ended": 2, "people_review": 1}


def test_staff_of_a_divided_township_go_to_the_largest_successor_and_are_listed_for_review() -> None:
    heirs = divided()
    assert heirs == {OLD: [BIG, SMALL]}
    (found,) = decide([officer()], {}, heirs, TEAMS)
    assert (found.action, found.unit, found.team) == ("carry", BIG, f"enf-{BIG}")
    assert SMALL in found.review and StaffPlan([found]).review == [f"off-{OLD}-1: {found.review}"]


def test_a_staff_item_names_the_successor_and_leaves_nothing_for_review() -> None:
    items = {
        f"off-{OLD}-1": StaffItem(person=f"off-{OLD}-1", to=SMALL),
        f"off-{OLD}-2": StaffItem(person=f"off-{OLD}-2", end=True),
    }
    found = decide([officer(), officer(n=2)], items, divided(), TEAMS)
    assert [(d.action, d.unit, d.team, d.review) for d in found] == [
        ("carry", SMALL, f"enf-{SMALL}", ""),
        ("end", None, None, ""),
    ]


def test_people_of_units_that_continue_are_left_alone() -> None:
    assert decide([officer(KEPT)], {}, merged(), TEAMS) == []


def test_a_grid_member_follows_their_recoded_grid_and_is_reviewed_when_grids_part() -> None:
    member = Serving("gm-510822108001001", "grid_member", "510822108001001", grids_after=("510822100201001",))
    (found,) = decide([member], {}, merged(), TEAMS)
    assert (found.action, found.unit, found.review) == ("carry", "510822100201001", "")
    village = Serving(
        "gm-x", "grid_member", "510822108001", grids_after=("510822100201001", "510822100202001", "510822100202002")
    )
    (split,) = decide([village], {}, merged(), TEAMS)
    assert split.unit == "510822100202" and "510822100201" in split.review
    unchanged = Serving("gm-y", "grid_member", "510822100201", grids_after=("510822100201001",))
    assert decide([unchanged], {}, merged(), TEAMS) == []


def test_a_staff_item_must_name_someone_serving_in_the_county_and_a_target_of_the_date() -> None:
    units = {KEPT: BEFORE[KEPT], BIG: Unit(BIG, "大镇", "township", "510822", box(0, 0, 1, 1))}
    check = lambda item, person: item_errors(0, item, person, "510822", units, TEAMS, "2026-12-01")  # noqa: E731
    assert check(StaffItem(person="off-x-1", to=KEPT), None) == [
        "staff 1 (off-x-1): off-x-1 does not serve in county 510822 on 2026-12-01"
    ]
    elsewhere = Serving("off-510812100-1", "officer", "510812100", "enf-510812100", "enforcement")
    assert "does not serve in county 510822" in check(StaffItem(person=elsewhere.id, to=KEPT), elsewhere)[0]
    assert check(StaffItem(person=officer().id, to="510822999"), officer()) == [
        f"staff 1 ({officer().id}): unit 510822999 does not exist on 2026-12-01",
        f"staff 1 ({officer().id}): 510822999 has no enforcement team; name one in `team`",
    ]
    assert check(StaffItem(person=officer().id, to=KEPT, team="enf-nowhere"), officer()) == [
        f"staff 1 ({officer().id}): team enf-nowhere does not exist on 2026-12-01"
    ]
    assert check(StaffItem(person=officer().id, to=BIG, team=f"enf-{KEPT}"), officer()) == [
        f"staff 1 ({officer().id}): team enf-{KEPT} serves {KEPT}, not {BIG}"
    ]
    assert check(StaffItem(person=officer().id, team=f"enf-{BIG}"), officer()) == []


def test_a_new_township_inherits_from_the_predecessor_whose_area_it_took_most_of() -> None:
    after = {
        KEPT: BEFORE[KEPT],
        BIG: Unit(BIG, "大镇", "township", "510822", box(0, 0, 2, 1)),
    }
    heirs = successors(BEFORE, after, [Lineage(OLD, BIG, "merged_into", "township")])
    assert predecessors(BEFORE, after, heirs) == {BIG: OLD}
    assert predecessors(BEFORE, {KEPT: Unit(KEPT, "乔庄镇", "township", "510822", box(0, 0, 4, 1))}, merged()) == {}


def test_a_township_formed_from_parts_of_townships_that_continue_inherits_from_the_largest_part() -> None:
    after = {
        OLD: Unit(OLD, "旧乡", "township", "510822", box(0, 0, 1.5, 1)),
        KEPT: Unit(KEPT, "乔庄镇", "township", "510822", box(2.2, 0, 4, 1)),
        BIG: Unit(BIG, "新街道", "township", "510822", box(1.5, 0, 2.2, 1)),
    }
    assert predecessors(BEFORE, after, successors(BEFORE, after, [])) == {BIG: OLD}


def test_a_grid_member_whose_unit_keeps_one_of_their_grids_stays() -> None:
    member = Serving("gm-z", "grid_member", "510822100201", grids_after=("510822100201001", "510822100203001"))
    assert decide([member], {}, merged(), TEAMS) == []


def test_a_staff_items_error_is_located_at_the_item() -> None:
    assert plan_error_loc("staff 2 (off-x-1): team enf-y does not exist on 2026-12-01") == ("body", "staff", 1)
