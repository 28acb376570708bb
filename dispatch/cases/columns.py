"""The cases table's columns, SELECT list and upsert, all derived from the CaseRecord dataclass.

To add a case field: add it to CaseRecord (and to CaseView if clients see it) and write a migration adding a column of
the same name; only a field stored unlike its type (not one column of that name) needs an entry in STORED_AS."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import Enum
from itertools import count
from typing import Any, Protocol, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from pydantic import BaseModel

from core.cases import Assignee
from core.vocabulary import PartyKind
from dispatch.cases.record import CaseRecord
from dispatch.db import JsonText


class Row(Protocol):
    """A selected row: an asyncpg record, or a dict in tests."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class Stored:
    """How record attributes are kept in the cases table."""

    attrs: tuple[str, ...]
    columns: tuple[str, ...]
    dump: Callable[..., tuple[object, ...]]  # the attributes' values -> the upsert's parameters
    load: Callable[[Row], tuple[Any, ...]]  # a row of CASE_COLUMNS -> the attributes' values
    select: str = ""  # the SELECT expressions when not the column names
    values: str = ""  # the VALUES expression, one {} per parameter, when not one parameter per column
    keep: bool = False  # the upsert keeps the value the case was opened with

    def select_sql(self) -> str:
        """The expressions reading these attributes in CASE_COLUMNS."""
        return self.select or ", ".join(self.columns)

    def values_sql(self, numbers: count[int]) -> str:
        """The VALUES expressions, numbering the parameters from `numbers`."""
        template = self.values or ",".join("{}" for _ in self.columns)
        return template.format(*(f"${next(numbers)}" for _ in range(template.count("{}"))))


ASSIGNEE_COLUMNS = ("assignee_kind", "assignee_id", "assignee_name", "assignee_fallback")


def _dump_assignee(a: Assignee | None) -> tuple[object, ...]:
    return (a.kind.value, a.id, a.name, a.fallback) if a else (None, None, None, None)


def _load_assignee(row: Row) -> tuple[Assignee | None]:
    if not row["assignee_kind"]:
        return (None,)
    kind, id_, name, fallback = (row[c] for c in ASSIGNEE_COLUMNS)
    return (Assignee(kind=PartyKind(kind), id=id_, name=name, fallback=fallback),)


# The fields not kept in one column of their own name.
STORED_AS: tuple[Stored, ...] = (
    Stored(("assignee",), ASSIGNEE_COLUMNS, _dump_assignee, _load_assignee),
    Stored(
        ("lon", "lat"),
        ("location",),
        lambda lon, lat: (lon, lat),
        lambda row: (row["lon"], row["lat"]),
        select="ST_X(location) AS lon, ST_Y(location) AS lat",
        values="ST_SetSRID(ST_MakePoint({},{}),4326)",
        keep=True,
    ),
)
# The columns the upsert never overwrites (besides the location, kept above).
KEPT = frozenset({"id", "event_type", "opened_at"})
_AS_IS = (str, int, float, bool, datetime, date, UUID)


def _codec(hint: Any) -> tuple[Callable[[Any], object], Callable[[Any], Any]]:
    """How a value of this type goes to its column and back: enums by value, models as JSON, str tuples as arrays."""
    if isinstance(hint, type) and issubclass(hint, Enum):
        return (lambda v: v.value), hint
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        model: type[BaseModel] = hint
        return (lambda v: JsonText(v.model_dump_json())), (
            lambda v: model.model_validate_json(v) if isinstance(v, str) else model.model_validate(v)
        )
    if get_origin(hint) is tuple and get_args(hint) == (str, ...):
        return list, tuple
    if hint in _AS_IS:
        return (lambda v: v), (lambda v: v)
    raise TypeError(f"no column type for {hint!r}: say how it is stored in STORED_AS")


def _by_type(name: str, hint: Any) -> Stored:
    """A field kept in one column of its own name, encoded by its type (None stays NULL when it may be None)."""
    args = get_args(hint)
    optional = get_origin(hint) in (Union, types.UnionType) and type(None) in args
    to_db, from_db = _codec(next(a for a in args if a is not type(None)) if optional else hint)
    if optional:
        to_db, from_db = _or_none(to_db), _or_none(from_db)
    return Stored((name,), (name,), lambda v: (to_db(v),), lambda row: (from_db(row[name]),), keep=name in KEPT)


def _or_none(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else f(v)


def _stored() -> tuple[Stored, ...]:
    """Every CaseRecord field, in declaration order, with how it is stored."""
    special = {a: s for s in STORED_AS for a in s.attrs}
    hints = get_type_hints(CaseRecord)
    out: list[Stored] = []
    for f in fields(CaseRecord):
        s = special.get(f.name) or _by_type(f.name, hints[f.name])
        if not any(s is o for o in out):
            out.append(s)
    return tuple(out)


def _upsert(stored: tuple[Stored, ...]) -> str:
    """Insert a case, or overwrite all but its kept columns."""
    numbers = count(1)
    columns = ", ".join(c for s in stored for c in s.columns)
    values = ",".join(s.values_sql(numbers) for s in stored)
    updates = ", ".join(f"{c}=EXCLUDED.{c}" for s in stored if not s.keep for c in s.columns)
    return f"INSERT INTO cases ({columns}) VALUES ({values}) ON CONFLICT (id) DO UPDATE SET {updates}"


STORED = _stored()
CASE_COLUMNS = ", ".join(s.select_sql() for s in STORED)
UPSERT_CASE = _upsert(STORED)


def case_args(case: CaseRecord) -> tuple[object, ...]:
    """The UPSERT_CASE parameters for a case."""
    return tuple(p for s in STORED for p in s.dump(*(getattr(case, a) for a in s.attrs)))


def case_from_row(row: Row) -> CaseRecord:
    """A row of CASE_COLUMNS as a record."""
    values: dict[str, Any] = {}
    for s in STORED:
        values.update(zip(s.attrs, s.load(row), strict=True))
    return CaseRecord(**values)
