"""Redistricting plans (区划调整): merges, splits, transfers, renames and new units, with an effective date."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from core.inputs import NO_NUL

TOWNSHIP_CODE = r"^[0-9]{9}$"
VILLAGE_CODE = r"^[0-9]{12}$"
UNIT_CODE = r"^([0-9]{9}|[0-9]{12})$"
PLAN_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"
PERSON_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"
TEAM_ID = r"^[a-z0-9][a-z0-9_-]{1,63}$"


class Item(BaseModel):
    """Base of plan items: each may carry a note explaining how it was established."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str = Field(default="", max_length=500, pattern=NO_NUL)


class Merge(Item):
    """撤并: the sources are abolished and their area joins `into` (existing, or new when `name` is given)."""

    op: Literal["merge"]
    sources: list[Annotated[str, Field(pattern=UNIT_CODE)]] = Field(min_length=1)
    into: str = Field(pattern=UNIT_CODE)
    name: str | None = Field(
        default=None, max_length=60, pattern=NO_NUL, description="name of `into` when the plan creates it"
    )
    parent: str | None = Field(default=None, pattern=TOWNSHIP_CODE, description="township of a new village")


class Recode(Item):
    """划转/改码: a whole village gets a new code, e.g. because it moved to another township."""

    op: Literal["recode"]
    code: str = Field(pattern=VILLAGE_CODE)
    new_code: str = Field(pattern=VILLAGE_CODE)
    name: str | None = Field(default=None, max_length=60, pattern=NO_NUL)


class Rename(Item):
    """更名: same unit and code, new name."""

    op: Literal["rename"]
    code: str = Field(pattern=UNIT_CODE)
    name: str = Field(min_length=1, max_length=60, pattern=NO_NUL)


class TransferPart(Item):
    """A drawn part of a village moves to another village (GeoJSON polygon, lon/lat)."""

    op: Literal["transfer_part"]
    source: str = Field(pattern=VILLAGE_CODE)
    target: str = Field(pattern=VILLAGE_CODE)
    area: dict[str, Any]


class SplitPart(BaseModel):
    """One successor of a split: a new village and the area it takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=VILLAGE_CODE)
    name: str = Field(min_length=1, max_length=60, pattern=NO_NUL)
    area: dict[str, Any]


class Split(Item):
    """拆分: a village is abolished and its area divided among new villages that together cover it."""

    op: Literal["split"]
    code: str = Field(pattern=VILLAGE_CODE)
    parts: list[SplitPart] = Field(min_length=2)


class MovedVillage(BaseModel):
    """A whole village moving into another township: it takes `new_code`, or joins the village already there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=VILLAGE_CODE)
    new_code: str = Field(pattern=VILLAGE_CODE)
    name: str | None = Field(default=None, max_length=60, pattern=NO_NUL, description="its name from now on")


class DrawnPart(BaseModel):
    """A drawn area (GeoJSON polygon, lon/lat) of an existing village, moving into a village of the new unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(pattern=VILLAGE_CODE)
    area: dict[str, Any]
    into: str | None = Field(
        default=None, pattern=VILLAGE_CODE, description="the receiving village (a township's part only)"
    )
    name: str | None = Field(
        default=None, max_length=60, pattern=NO_NUL, description="name of `into` when this part creates it"
    )


class Create(Item):
    """设立: a new township from villages of townships that continue (and drawn areas), or a new village from
    drawn areas of villages that continue; the sources keep their codes."""

    op: Literal["create"]
    code: str = Field(pattern=UNIT_CODE)
    name: str = Field(min_length=1, max_length=60, pattern=NO_NUL)
    villages: list[MovedVillage] = Field(default_factory=list, description="a township's villages moved in whole")
    areas: list[DrawnPart] = Field(default_factory=list)


class Share(BaseModel):
    """What one successor of a divided township receives: whole villages, and drawn areas of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    into: str = Field(pattern=TOWNSHIP_CODE)
    name: str | None = Field(
        default=None, max_length=60, pattern=NO_NUL, description="name of `into` when the plan creates it"
    )
    villages: list[MovedVillage] = Field(default_factory=list)
    areas: list[DrawnPart] = Field(default_factory=list)


class Divide(Item):
    """分设: a township is abolished and each of its villages goes to one of several successor townships."""

    op: Literal["divide"]
    code: str = Field(pattern=TOWNSHIP_CODE)
    shares: list[Share] = Field(min_length=2)


class Reparent(Item):
    """改隶: a village moves whole to another township; its code follows (`new_code`, else the same last digits)."""

    op: Literal["reparent"]
    code: str = Field(pattern=VILLAGE_CODE)
    parent: str = Field(pattern=TOWNSHIP_CODE)
    new_code: str | None = Field(default=None, pattern=VILLAGE_CODE)


PlanItem = Annotated[
    Merge | Recode | Rename | TransferPart | Split | Create | Divide | Reparent, Field(discriminator="op")
]


class Review(BaseModel):
    """What a built plan could not establish from the lists: a person checks it before applying the plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=UNIT_CODE, description="the unit concerned")
    item: int | None = Field(default=None, ge=1, description="the item (1-based) that carries the guess")
    reason: str = Field(min_length=1, max_length=500, pattern=NO_NUL)


class StaffItem(BaseModel):
    """A named person's fate at the plan's date: carried to a unit (and team) that exists then, or ended."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person: str = Field(pattern=PERSON_ID)
    to: str | None = Field(default=None, pattern=UNIT_CODE, description="the unit they serve from the date")
    team: str | None = Field(default=None, pattern=TEAM_ID, description="the team they join (of `to`)")
    end: bool = Field(default=False, description="their service ends at the date")
    note: str = Field(default="", max_length=500, pattern=NO_NUL)

    @model_validator(mode="after")
    def _one_fate(self) -> StaffItem:
        if self.end and (self.to is not None or self.team is not None):
            raise ValueError("a person ended is carried nowhere: give `end` or `to`/`team`, not both")
        if not self.end and self.to is None and self.team is None:
            raise ValueError("give `to` (and `team`) to carry the person, or `end: true`")
        return self


class RedistrictingPlan(BaseModel):
    """A whole plan: one county, one effective date, its legal basis, and its items in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan_id: str = Field(pattern=PLAN_ID)
    county: str = Field(pattern=r"^[0-9]{6}$")
    effective_date: date = Field(gt=date.min)  # checked against the registry of the day before
    legal_basis: str = Field(min_length=2, max_length=200, pattern=NO_NUL, description="e.g. 广府〔2019〕118号")
    title: str = Field(default="", max_length=200, pattern=NO_NUL)
    items: list[PlanItem] = Field(min_length=1)
    review: list[Review] = Field(default_factory=list, description="what a built plan guessed: check before applying")
    staff: list[StaffItem] = Field(
        default_factory=list, max_length=10_000, description="named people's fates; the default rule moves the rest"
    )


PLAN_ADAPTER: TypeAdapter[RedistrictingPlan] = TypeAdapter(RedistrictingPlan)
