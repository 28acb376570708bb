"""The category table over HTTP: every signed-in person reads it (the pickers and labels); an administrator edits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from core.categories import LEGACY_MAJORS, CategoryEntry, CategoryTable, is_major
from core.inputs import NO_NUL
from dispatch.access.http_auth import Admin, Caller
from dispatch.registry import categories_store

router = APIRouter(prefix="/api/v1", tags=["registry"])
CODE = r"^[0-9]{2}([0-9]{2})?$"


class Minor(BaseModel):
    """A 小类: what a report names."""

    code: str = Field(description="4 digits, the first two its 大类's")
    name_zh: str
    name_en: str
    active: bool = Field(description="open to new reports (a retired one still names the cases filed under it)")


class Major(BaseModel):
    """A 大类 and its 小类, in the table's order."""

    code: str = Field(description="2 digits")
    name_zh: str
    name_en: str
    active: bool
    minors: list[Minor]


class Categories(BaseModel):
    """The whole table, and what each legacy English value of earlier clients stands for."""

    majors: list[Major]
    legacy: dict[str, str] = Field(description="legacy value → its 大类 code (an event files under its xx99 小类)")


class CategoryEdit(BaseModel):
    """A category's names, place in its list, and whether new reports may name it."""

    model_config = ConfigDict(extra="forbid")

    name_zh: str = Field(min_length=1, max_length=40, pattern=NO_NUL)
    name_en: str = Field(min_length=1, max_length=80, pattern=NO_NUL)
    position: int = Field(default=0, ge=0, le=100_000)
    active: bool = True


def nested(table: CategoryTable) -> Categories:
    """The table as 大类 each holding its 小类."""
    majors: dict[str, Major] = {}
    for e in table.entries:
        if is_major(e.code):
            majors[e.code] = Major(code=e.code, name_zh=e.name_zh, name_en=e.name_en, active=e.active, minors=[])
        elif e.major in majors:
            majors[e.major].minors.append(Minor(code=e.code, name_zh=e.name_zh, name_en=e.name_en, active=e.active))
    return Categories(majors=list(majors.values()), legacy=dict(LEGACY_MAJORS))


@router.get("/categories", response_model=Categories)
async def categories(request: Request, caller: Caller) -> Categories:
    """The category table: 大类 with their 小类, codes and Chinese and English names."""
    return nested(await categories_store.load_table(request.app.state.pool))


@router.put(
    "/categories/{code}", response_model=Categories, responses={404: {"description": "a 小类 without its 大类"}}
)
async def set_category(
    code: Annotated[str, Path(pattern=CODE)], edit: CategoryEdit, request: Request, caller: Admin
) -> Categories:
    """Add or change a category (a 小类 after its 大类); the stream processors reload at once, the intake within
    GRID_CATEGORY_RELOAD_SECONDS. A category is retired (active false), never deleted: cases keep their code."""
    entry = CategoryEntry(code, edit.name_zh, edit.name_en, edit.position, edit.active)
    await categories_store.set_category(request.app.state.pool, entry, caller.username)
    await request.app.state.notices.announce("rules", f"category {code} set by {caller.username}")
    return nested(await categories_store.load_table(request.app.state.pool))
