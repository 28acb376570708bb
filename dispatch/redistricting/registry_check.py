"""Does a county's registry hold together: townships tile the county, villages their township, grids their village."""

from __future__ import annotations

from collections.abc import Mapping

from shapely.geometry.base import BaseGeometry

from dispatch.geometry.tiling import tiling_errors
from dispatch.redistricting.model import Grid, Unit


def county_errors(
    county: str, outline: BaseGeometry, units: Mapping[str, Unit], grids: Mapping[str, Grid]
) -> list[str]:
    """Every gap, overlap, orphan and empty village of the county, each naming the unit or grid at fault."""
    errors: list[str] = []
    villages_of: dict[str, dict[str, BaseGeometry]] = {}
    for unit in units.values():
        if unit.level == "village":
            if unit.parent not in units or units[unit.parent].level != "township":
                errors.append(
                    f"village {unit.code} lies in township {unit.parent}, which does not exist: recode or merge it"
                )
            villages_of.setdefault(unit.parent, {})[unit.code] = unit.geom
    grids_of: dict[str, dict[str, BaseGeometry]] = {}
    for grid in grids.values():
        if grid.village not in units:
            errors.append(f"grid {grid.code} lies in village {grid.village}, which does not exist")
        grids_of.setdefault(grid.village, {})[grid.code] = grid.geom
    if errors:
        return errors
    errors += tiling_errors(county, outline, {c: u.geom for c, u in units.items() if u.level == "township"})
    for code, children in sorted(villages_of.items()):
        errors += tiling_errors(code, units[code].geom, children)
    for code, unit in sorted(units.items()):
        if unit.level == "village":
            if code not in grids_of:
                errors.append(f"village {code} has no grid")
            else:
                errors += tiling_errors(code, unit.geom, grids_of[code])
    return errors
