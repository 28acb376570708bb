"""Event categories (CJ/T 214 style): 大类 of two digits, 小类 of four whose first two are their 大类; the ten
English values of earlier clients as aliases; the table itself is data (dispatch/data/categories.csv, `categories`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

MAJOR = re.compile(r"^[0-9]{2}$")
MINOR = re.compile(r"^[0-9]{4}$")
GENERAL = "99"
"""The 小类 of a 大类 for what fits none of its others: an event naming only a 大类 (or a legacy value) files there."""

LEGACY_MAJORS: dict[str, str] = {
    "environment": "01",
    "other": "06",
    "dispute": "07",
    "safety": "08",
    "market": "09",
    "illegal_construction": "10",
    "flood": "11",
    "fire": "12",
    "public_order": "13",
    "road": "14",
}
"""The ten categories phones sent before the table, each naming the 大类 it became."""

OTHER = "0699"


def major_of(code: str) -> str:
    """The 大类 of a code (a 大类 is its own)."""
    return code[:2]


def is_major(code: str) -> bool:
    """Whether a code names a 大类."""
    return MAJOR.match(code) is not None


def as_minor(value: Any) -> Any:
    """An event's category as the 小类 it files under: a legacy value or a bare 大类 goes to its general 小类."""
    if not isinstance(value, str):
        return value
    value = LEGACY_MAJORS.get(value.strip(), value.strip())
    return value + GENERAL if MAJOR.match(value) else value


def as_scope(value: Any) -> Any:
    """A rule's or filter's category as a code: a legacy value names its whole 大类."""
    if not isinstance(value, str):
        return value
    return LEGACY_MAJORS.get(value.strip(), value.strip())


def covers(scope: str | None, code: str) -> bool:
    """Whether a rule's category (None: any; a 大类: every 小类 in it; a 小类: itself) takes in a case's 小类."""
    return scope is None or scope == code or (is_major(scope) and major_of(code) == scope)


def specificity(scope: str | None) -> int:
    """How narrowly a rule's category is drawn: 0 any, 1 a 大类, 2 a 小类 (the narrower wins)."""
    return 0 if scope is None else 1 if is_major(scope) else 2


_LEGACY_SCHEMA = {"type": "string", "enum": sorted(LEGACY_MAJORS)}
CategoryCode = Annotated[
    str,
    BeforeValidator(as_minor),
    Field(pattern=MINOR.pattern),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^[0-9]{2}([0-9]{2})?$"}, _LEGACY_SCHEMA],
            "description": "小类 code (4 digits; a 2-digit 大类 files under its general 小类 xx99),"
            " or one of the legacy English values, which name a 大类",
        }
    ),
]
"""An event's or command's category as received: a 小类 code once validated."""

MinorCode = Annotated[
    str,
    BeforeValidator(as_minor),
    Field(pattern=MINOR.pattern, description="小类 code; its 大类 is its first two digits"),
]
"""A case's category as the product shows it: a 小类 code."""

CategoryScope = Annotated[
    str,
    BeforeValidator(as_scope),
    Field(pattern=r"^[0-9]{2}([0-9]{2})?$"),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^[0-9]{2}([0-9]{2})?$"}, _LEGACY_SCHEMA],
            "description": "大类 (2 digits: all its 小类) or 小类 (4 digits), or a legacy English value (its 大类)",
        }
    ),
]
"""A rule's, SLA's or filter's category: a 大类 or a 小类 code."""


@dataclass(frozen=True)
class CategoryEntry:
    """One row of the category table."""

    code: str
    name_zh: str
    name_en: str
    position: int = 0
    active: bool = True

    @property
    def major(self) -> str:
        """The 大类 this row belongs to (itself for a 大类)."""
        return major_of(self.code)


class CategoryTable:
    """The category table as every process holds it in memory."""

    def __init__(self, entries: Iterable[CategoryEntry] = ()) -> None:
        self.entries = sorted(entries, key=lambda e: (e.major, not is_major(e.code), e.position, e.code))
        self._by_code = {e.code: e for e in self.entries}

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> CategoryEntry | None:
        """The row of a code, if any."""
        return self._by_code.get(code)

    def reportable(self, code: str) -> bool:
        """Whether a new event may name this 小类 (known, active, and its 大类 active); an empty table takes any."""
        if not self._by_code:
            return True
        entry, major = self._by_code.get(code), self._by_code.get(major_of(code))
        return entry is not None and entry.active and not is_major(code) and (major is None or major.active)

    def knows(self, code: str) -> bool:
        """Whether the table holds this code (active or retired); an empty table takes any."""
        return not self._by_code or code in self._by_code

    def name_zh(self, code: str | None) -> str:
        """The Chinese name of a code, the code itself when unknown."""
        if code is None:
            return ""
        entry = self._by_code.get(code)
        return entry.name_zh if entry else code

    def path_zh(self, code: str | None) -> str:
        """大类/小类 in Chinese, as reports print a case's category."""
        if code is None:
            return ""
        if is_major(code) or major_of(code) not in self._by_code:
            return self.name_zh(code)
        return f"{self.name_zh(major_of(code))}/{self.name_zh(code)}"
