"""People and posts as the registry takes them: who, in which role, serving which unit, team or grids. Pure."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from core.inputs import NO_NUL

Role = Literal["grid_member", "officer", "legal_reviewer", "agency_staff"]
PostKind = Literal["full_time", "part_time"]
TEAM_ROLES: frozenset[str] = frozenset({"officer", "legal_reviewer", "agency_staff"})
ID_PREFIX: dict[str, str] = {"grid_member": "gm", "officer": "off", "legal_reviewer": "legal", "agency_staff": "staff"}
PERSON_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"
TEAM_ID = r"^[a-z0-9][a-z0-9_-]{1,63}$"
GRID_CODE = r"^[0-9]{15}$"
GridCode = Annotated[str, Field(pattern=GRID_CODE)]


class PersonSpec(BaseModel):
    """A person to add: a grid member posted to grids of their unit, or a member of a township team.

    A team member names the team, or the township (and, for agency staff, the agency type) whose team it is.
    """

    model_config = ConfigDict(extra="forbid")

    role: Role
    name: str = Field(min_length=1, max_length=40, pattern=NO_NUL)
    id: str | None = Field(default=None, pattern=PERSON_ID, description="chosen by the caller, else generated")
    phone: str | None = Field(default=None, pattern=r"^1[0-9]{10}$")
    unit_code: str | None = Field(
        default=None,
        pattern=r"^([0-9]{9}|[0-9]{12})$",
        validate_default=True,
        description="village or township a grid member serves; township of a team member",
    )
    team_id: str | None = Field(default=None, pattern=TEAM_ID, validate_default=True)
    agency_type: str | None = Field(
        default=None, pattern=r"^[a-z_]{2,30}$", validate_default=True, description="agency staff: police, market…"
    )
    grids: list[GridCode] = Field(default_factory=list, max_length=50, validate_default=True)
    post: PostKind | None = Field(default=None, validate_default=True, description="grid members: full_time (default)")
    valid_from: date | None = Field(default=None, description="first day of service (default today)")

    @field_validator("unit_code")
    @classmethod
    def _member_needs_unit(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("role") == "grid_member" and value is None:
            raise ValueError("a grid member needs the village or township they serve")
        return value

    @field_validator("team_id")
    @classmethod
    def _team_for_team_roles(cls, value: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if role == "grid_member" and value is not None:
            raise ValueError("a grid member belongs to no team")
        if role in TEAM_ROLES and value is None and info.data.get("unit_code") is None:
            raise ValueError("give the team, or the township (unit_code) whose team it is")
        return value

    @field_validator("agency_type")
    @classmethod
    def _agency_type_for_staff(cls, value: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if role is not None and role != "agency_staff" and value is not None:
            raise ValueError("only agency staff have an agency type")
        if role == "agency_staff" and value is None and info.data.get("team_id") is None:
            raise ValueError("agency staff need the agency's team_id, or its agency_type in the township")
        return value

    @field_validator("grids")
    @classmethod
    def _grids_for_members(cls, value: list[str], info: ValidationInfo) -> list[str]:
        role = info.data.get("role")
        if role == "grid_member" and not value:
            raise ValueError("a grid member needs at least one grid")
        if role is not None and role != "grid_member" and value:
            raise ValueError("only grid members hold grid posts")
        if len(set(value)) != len(value):
            raise ValueError("a grid is listed twice")
        return value

    @field_validator("post")
    @classmethod
    def _post_for_members(cls, value: PostKind | None, info: ValidationInfo) -> PostKind | None:
        role = info.data.get("role")
        if role is not None and role != "grid_member" and value is not None:
            raise ValueError("only grid members hold a grid post")
        return value

    def person_id(self) -> str:
        """The id given, or a new one prefixed by role (gm-, off-, legal-, staff-)."""
        return self.id or f"{ID_PREFIX[self.role]}-{uuid.uuid4().hex[:12]}"


class PostSpec(BaseModel):
    """One more grid for a grid member."""

    model_config = ConfigDict(extra="forbid")

    grid_code: GridCode
    post: PostKind = "full_time"
    valid_from: date | None = Field(default=None, description="first day (default today)")


def grid_in_unit(unit_code: str, grid_code: str, village_code: str, township_code: str) -> bool:
    """Whether a grid lies in the unit a person serves (the unit is the grid itself, its village or township)."""
    return unit_code in (grid_code, village_code, township_code)


def start_day(requested: date | None, today: date) -> date:
    """The first day of a new record: today unless a later day is asked for; the past is not rewritten."""
    if requested is not None and requested < today:
        raise ValueError(f"valid_from {requested} is in the past; history is not rewritten")
    return requested or today
