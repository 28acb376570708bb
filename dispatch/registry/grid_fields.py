"""Which attribute of a grid file holds what: configurable names with defaults (English and the Chinese names county
data uses), and the grid kinds as counties write them. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace

DBF_NAME_BYTES = 10
"""A shapefile's attribute names are at most 10 bytes: longer names arrive cut (网格编码 in UTF-8 becomes 网格编)."""

KINDS: dict[str, str] = {
    "urban": "urban",
    "城镇网格": "urban",
    "城镇": "urban",
    "城市网格": "urban",
    "rural": "rural",
    "农村网格": "rural",
    "农村": "rural",
    "special": "special",
    "专属网格": "special",
    "专属": "special",
    "residential": "residential",
    "社区网格": "residential",
    "居民网格": "residential",
    "commercial": "commercial",
    "商业网格": "commercial",
    "商圈网格": "commercial",
}
"""A kind as written in a file (case and surrounding blanks ignored) → the registry's kind."""


@dataclass(frozen=True)
class GridFields:
    """For each attribute, the names it may have in a file, tried in order (the first present wins)."""

    code: tuple[str, ...] = ("code", "网格编码", "网格代码", "WGBM", "GRID_CODE")
    name: tuple[str, ...] = ("name", "网格名称", "WGMC", "GRID_NAME")
    households: tuple[str, ...] = ("households", "户数", "总户数", "HS")
    population: tuple[str, ...] = ("population", "人口", "人口数", "总人口", "RK")
    kind: tuple[str, ...] = ("kind", "类型", "网格类型", "WGLX")
    member: tuple[str, ...] = ("member", "网格员", "网格员编号", "网格员电话", "WGY")

    @classmethod
    def with_overrides(cls, **names: str | None) -> GridFields:
        """The defaults, with an attribute's name replaced where one is given (`code="BM"` reads codes from BM)."""
        given = {k: (v.strip(),) for k, v in names.items() if v and v.strip()}
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"no grid attribute called {', '.join(sorted(unknown))}")
        return replace(cls(), **given)


REQUIRED = ("code", "households", "population", "kind")
"""Attributes every grid must carry; a grid without a name is named after its village, one without a member is
left vacant."""


def resolve(options: GridFields, present: Iterable[str], encoding: str = "utf-8") -> dict[str, str | None]:
    """For each attribute, the file's field that holds it (None when absent), matching names without regard to case
    and as a shapefile cuts them to 10 bytes in `encoding`."""
    by_key: dict[str, str] = {}
    for field in present:
        by_key.setdefault(field.strip().casefold(), field)
    found: dict[str, str | None] = {}
    for attribute in (f.name for f in fields(GridFields)):
        candidates: Sequence[str] = getattr(options, attribute)
        found[attribute] = next(
            (
                by_key[key]
                for name in candidates
                for key in (name.casefold(), _cut(name, encoding).casefold())
                if key in by_key
            ),
            None,
        )
    return found


def _cut(name: str, encoding: str) -> str:
    """The name as a shapefile stores it: at most 10 bytes, cut at a character boundary."""
    try:
        raw = name.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return name
    return raw[:DBF_NAME_BYTES].decode(encoding, errors="ignore")


def kind_of(value: object) -> str | None:
    """The registry's kind for a value a file gives, or None when it names no known kind."""
    if value is None:
        return None
    return KINDS.get(str(value).strip().casefold())
