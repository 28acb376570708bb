"""A grid file's features as grids: the code, attributes, member and polygon of each, or what is wrong with it.
Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from dispatch.errors import Loc
from dispatch.registry.boundary_import import read_polygon
from dispatch.registry.grid_fields import KINDS, REQUIRED, GridFields, kind_of, resolve
from dispatch.registry.grid_file import GridFile

GRID_CODE = re.compile(r"^[0-9]{15}$")
DIGITS = re.compile(r"^[0-9]{1,9}$")
MAX_COUNT = 10_000_000
"""Households or people of one grid beyond this are a typo."""
FILE: Loc = ("body", "file")
MAX_TEXT = 200


@dataclass(frozen=True)
class Problem:
    """What is wrong, where (`loc`), and whether it names something the registry lacks (or the caller cannot reach)."""

    loc: Loc
    msg: str
    missing: bool = False


@dataclass(frozen=True)
class GridRow:
    """One grid as the file gives it."""

    number: int
    code: str
    name: str | None
    households: int
    population: int
    kind: str
    member: str | None
    geom: BaseGeometry

    @property
    def village(self) -> str:
        """The village part of the code: 6 county + 3 township + 3 village digits."""
        return self.code[:12]


def feature_loc(number: int) -> Loc:
    """Where a feature is in the request: body.file.features.<index from 0>."""
    return (*FILE, "features", number - 1)


def parse_rows(file: GridFile, options: GridFields) -> tuple[list[GridRow], list[Problem]]:
    """Every feature as a grid, with a problem for each bad feature and each required attribute the file lacks."""
    columns = resolve(options, file.field_names, file.encoding)
    problems = [
        Problem(FILE, f"no attribute holds the grid's {a} (looked for: {', '.join(getattr(options, a))})")
        for a in REQUIRED
        if columns[a] is None and file.features
    ]
    if not file.features:
        problems.append(Problem(FILE, "the file holds no features"))
    if problems:
        return [], problems
    rows: list[GridRow] = []
    seen: dict[str, int] = {}
    for feature in file.features:
        row, wrong = _row(feature.number, feature.properties, feature.geometry, columns)
        problems += wrong
        if row is None:
            continue
        if row.code in seen:
            again = _at(row.number, row.code, f"same code as feature {seen[row.code]}")
            problems.append(Problem(feature_loc(row.number), again))
            continue
        seen[row.code] = row.number
        rows.append(row)
    return rows, problems


def _at(number: int, code: str | None, what: str) -> str:
    return f"grid {code} (feature {number}): {what}" if code else f"feature {number}: {what}"


def _row(
    number: int, props: dict[str, Any], geometry: dict[str, Any] | None, columns: dict[str, str | None]
) -> tuple[GridRow | None, list[Problem]]:
    def value(attribute: str) -> Any:
        column = columns[attribute]
        raw = props.get(column) if column else None
        return None if raw is None or (isinstance(raw, str) and not raw.strip()) else raw

    code = _text(value("code"))
    where = feature_loc(number)
    wrong: list[str] = []
    if code is None or not GRID_CODE.match(code) or code.endswith("000"):
        wrong.append(
            f"`{columns['code']}` must be a 15-digit grid code (6 county + 3 township + 3 village + 3 sequence"
            f" digits, sequence not 000), not {code!r}"
        )
        code = None
    households, population = (_count(value(a), str(columns[a]), wrong) for a in ("households", "population"))
    kind = kind_of(value("kind"))
    if kind is None:
        given = value("kind")
        words = ", ".join(sorted(KINDS))
        wrong.append(
            f"`{columns['kind']}` is missing"
            if given is None
            else f"`{columns['kind']}` {given!r} is no grid kind ({words})"
        )
    geom, bad_geometry = read_polygon(geometry)
    if geom is None:
        wrong.append(bad_geometry)
    name, member = _text(value("name")), _text(value("member"))
    for attribute, text in (("name", name), ("member", member)):
        if text is not None and (len(text) > MAX_TEXT or "\x00" in text):
            wrong.append(f"`{columns[attribute]}` must be text of at most {MAX_TEXT} characters, without NUL")
    if wrong or code is None or geom is None or kind is None or households is None or population is None:
        return None, [Problem(where, _at(number, code, w)) for w in wrong]
    return GridRow(number, code, name, households, population, kind, member, shapely.force_2d(geom)), []


def _text(raw: Any) -> str | None:
    """A value as text: a number without a fractional part as its digits (15-digit codes and phones as numbers)."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    text = str(raw).strip()
    return text or None


def _count(raw: Any, column: str, wrong: list[str]) -> int | None:
    """A whole number of households or people, or None with what is wrong added to `wrong`."""
    if raw is None:
        wrong.append(f"`{column}` is missing")
        return None
    text = _text(raw) or ""
    if isinstance(raw, bool) or not DIGITS.match(text) or int(text) > MAX_COUNT:
        wrong.append(f"`{column}` must be a whole number from 0 to {MAX_COUNT}, not {raw!r}")
        return None
    return int(text)
