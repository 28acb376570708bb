"""`gridctl` commands of the registry: import divisions and boundaries, demo data, history, routing rules."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from pydantic import ValidationError
from rich.progress import Progress

from dispatch.cli_support import console, fail, with_pool
from dispatch.geometry.synthetic import load_county_outline
from dispatch.registry import demo, grid_store, history, rules_store
from dispatch.registry import geojson as registry_geojson
from dispatch.registry.boundary_import import BadBoundaryFile, read_boundaries, store_boundaries
from dispatch.registry.division_import import BadDivisionFile, read_checked
from dispatch.registry.grid_fields import GridFields
from dispatch.registry.grid_file import UnreadableFile, read_grid_path
from dispatch.registry.load import load_county
from dispatch.registry.notify import announce
from dispatch.registry.revisions import bump_revision
from dispatch.registry.rules_store import RuleSpec
from dispatch.settings import CommonSettings

registry_app = typer.Typer(help="The registry: divisions, boundaries, demo data, history and routing rules.")
demo_app = typer.Typer(help="Demo data: 青川县 with synthetic grids.", no_args_is_help=True)
history_app = typer.Typer(help="Ask the registry about the past.", no_args_is_help=True)
rules_app = typer.Typer(help="Routing rules and SLAs (data, audited).", no_args_is_help=True)
registry_app.add_typer(demo_app, name="demo")
registry_app.add_typer(history_app, name="history")
registry_app.add_typer(rules_app, name="rules")
OUTLINES = demo.DATA / "counties.geojson"


@registry_app.command()
def generate(
    divisions: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: code,name,level,parent_code")],
    county: Annotated[list[str] | None, typer.Option(help="county code(s); default: every county in the file")] = None,
    outlines: Annotated[
        Path, typer.Option(exists=True, help="GeoJSON of county outlines (property `code`)")
    ] = OUTLINES,
    valid_from: Annotated[str, typer.Option(help="first day the list applies, YYYY-MM-DD")] = "2000-01-01",
    seed: Annotated[int, typer.Option(help="seed of the synthetic polygons")] = 2020,
    notify: Annotated[bool, typer.Option(help="tell running stream processors to reload")] = True,
) -> None:
    """Import a division list and generate synthetic township, village and grid polygons for its counties, each
    with its default routing rules, step SLAs and self-report policy (so its first events route).

    All counties are written in one transaction: a bad row or a failed county changes nothing.
    """
    try:
        rows = read_checked(divisions)
    except BadDivisionFile as exc:
        fail(f"{divisions}: nothing imported", exc.problems)
        return
    counties = county or sorted(d.code for d in rows if d.level == "county")
    start = date.fromisoformat(valid_from)

    async def work(pool: asyncpg.Pool) -> list[tuple[str, int, int, int, int]]:
        summary: list[tuple[str, int, int, int, int]] = []
        async with pool.acquire() as conn, conn.transaction():
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("generating", total=len(counties))
                for code in counties:
                    progress.update(task, description=f"county {code}")
                    units = await load_county(conn, code, rows, load_county_outline(outlines, code), start, seed)
                    count = Counter(u.level for u in units)
                    rules = await demo.install_default_rules(conn, code)
                    summary.append((code, count["township"], count["village"], count["grid"], rules))
                    progress.advance(task)
        return summary

    try:
        summary = with_pool(work)
    except KeyError as exc:
        fail(f"nothing imported: no outline for county {exc}")
        return
    for code, towns, villages, grids, rules in summary:
        console.print(
            f"{code}: {towns} townships, {villages} villages, {grids} grids (polygons synthetic);"
            f" {rules} default routing rules installed with the county's step SLAs (gridctl rules list --unit {code})"
        )
    if notify:
        announce(CommonSettings(), "boundaries", 0, f"divisions imported from {divisions.name}")


@registry_app.command()
def export(
    level: Annotated[str, typer.Argument(help="township, village or grid")],
    county: Annotated[str, typer.Option(help="6-digit county code")],
    on: Annotated[str | None, typer.Option(help="day, YYYY-MM-DD (default today)")] = None,
) -> None:
    """Write one level of a county as GeoJSON to standard output."""
    day = date.fromisoformat(on) if on else date.today()
    text = with_pool(lambda pool: history.export_geojson(pool, county, level, day))
    sys.stdout.write(text + "\n")


@registry_app.command("import-boundaries")
def import_boundaries(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON or .shp, lon/lat")],
    valid_from: Annotated[str, typer.Option(help="first day of the new boundaries, YYYY-MM-DD")],
    code_field: Annotated[str, typer.Option(help="attribute holding the division code")] = "code",
    notify: Annotated[bool, typer.Option(help="tell running stream processors to reload")] = True,
) -> None:
    """Import real boundaries for units already in the registry; their previous versions end that day."""
    try:
        boundaries = read_boundaries(path, code_field)
    except BadBoundaryFile as exc:
        fail(f"{path}: nothing imported", exc.problems)
        return

    async def work(pool: asyncpg.Pool) -> int:
        async with pool.acquire() as conn, conn.transaction():
            stored = await store_boundaries(conn, boundaries, date.fromisoformat(valid_from))
            await bump_revision(conn, "boundaries")
            return stored

    try:
        stored = with_pool(work)
    except BadBoundaryFile as exc:
        fail(f"{path}: nothing imported", exc.problems)
        return
    if notify:
        announce(CommonSettings(), "boundaries", 0, f"boundaries imported from {path.name}")
    console.print(f"[green]{stored} boundaries imported[/green], in force from {valid_from}")


@registry_app.command("import-grids")
def import_grids(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON, .zip or .shp; lon/lat")],
    effective: Annotated[str, typer.Option(help="first day of the new grids, YYYY-MM-DD")],
    dry_run: Annotated[bool, typer.Option(help="check and report, write nothing")] = False,
    code_field: Annotated[str | None, typer.Option(help="15-digit code (default: code, 网格编码…)")] = None,
    name_field: Annotated[str | None, typer.Option(help="name (default: name, 网格名称…)")] = None,
    households_field: Annotated[str | None, typer.Option(help="households (default: households, 户数…)")] = None,
    population_field: Annotated[str | None, typer.Option(help="population (default: population, 人口…)")] = None,
    kind_field: Annotated[str | None, typer.Option(help="kind (default: kind, 类型…)")] = None,
    member_field: Annotated[str | None, typer.Option(help="member (default: member, 网格员…)")] = None,
    notify: Annotated[bool, typer.Option(help="tell running stream processors to reload")] = True,
) -> None:
    """Import real grids with their codes, households, population, kind and member; the previous grids of every
    village in the file end the day before. Checked first (codes, villages, tiling, members), then all or nothing."""
    names = {"code": code_field, "name": name_field, "households": households_field}
    names |= {"population": population_field, "kind": kind_field, "member": member_field}
    try:
        rows = grid_store.grid_rows(read_grid_path(path), GridFields.with_overrides(**names))
        day = date.fromisoformat(effective)
        report = with_pool(lambda pool: grid_store.import_grids(pool, rows, day, dry_run=dry_run))
    except grid_store.BadGridFile as exc:
        fail(f"{path}: nothing imported", [p.msg for p in exc.problems])
        return
    except (UnreadableFile, ValueError) as exc:
        fail(f"{path}: nothing imported", [str(exc)])
        return
    if notify and not dry_run:
        announce(CommonSettings(), "boundaries", report["revision"] or 0, f"grids imported from {path.name}")
    verb = "would import" if dry_run else "imported"
    console.print(
        f"[green]{verb} {report['grids']} grids[/green] of {len(report['villages'])} village(s), in force from"
        f" {effective}; {report['ended']} previous grid version(s) end the day before"
    )
    for code in report["vacant"]:
        console.print(f"  vacant: {code} (no member given; the duty post answers for it)")
    if report["open_cases_on_ended_codes"]:
        console.print(f"  {report['open_cases_on_ended_codes']} open case(s) on grid codes that end: reassign them")


@registry_app.command()
def vacancies() -> None:
    """Grids without a member today, and the duty post answering for each (属地兜底)."""
    rows = with_pool(lambda pool: registry_geojson.vacant_grids(pool, date.today()))
    for r in rows:
        console.print(f"{r['code']} {r['name']}: vacant → {r['fallback'] or 'NO FALLBACK'} {r['fallback_name'] or ''}")
    console.print(f"{len(rows)} vacant grid(s)")


@demo_app.command("load")
def demo_load(
    county: Annotated[str, typer.Option(help="6-digit county code")] = demo.DEMO_COUNTY,
    force: Annotated[bool, typer.Option(help="replace the county's demo data")] = False,
    notify: Annotated[bool, typer.Option(help="tell running stream processors to reload")] = True,
    divisions: Annotated[Path, typer.Option(exists=True, help="division list")] = demo.DATA / "divisions-2020.csv",
    valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD")] = demo.DEMO_VALID_FROM.isoformat(),
) -> None:
    """Load one county's divisions (2020 by default) with synthetic polygons, people, teams and routing rules."""
    start = date.fromisoformat(valid_from)
    with console.status(f"loading demo county {county}…"):
        result = with_pool(lambda pool: demo.load_demo(pool, county, force, divisions, start))
    if notify:
        announce(CommonSettings(), "boundaries", 0, f"demo county {county} loaded")
    console.print("demo data: " + ", ".join(f"{k} {v}" for k, v in result.items()) + " (polygons synthetic)")


@history_app.command("point")
def history_point(lon: float, lat: float, on: Annotated[str, typer.Option(help="YYYY-MM-DD")]) -> None:
    """Who was responsible for this point on a given day."""
    found = with_pool(lambda pool: history.responsible_at(pool, lon, lat, date.fromisoformat(on)))
    if found is None:
        fail(f"({lon}, {lat}) was in no grid on {on}")
    console.print_json(data=found)


@history_app.command("code")
def history_code(code: str) -> None:
    """Which units an old code became (following merges, recodes, splits, divisions and parts given), with shares."""
    console.print_json(data=with_pool(lambda pool: history.successors(pool, code)))


@rules_app.command("list")
def rules_list(unit: Annotated[str | None, typer.Option(help="county or township code")] = None) -> None:
    """Rules in force today, by unit and position."""
    rows = with_pool(lambda pool: rules_store.list_rules(pool, unit, date.today()))
    for r in rows:
        match = " ".join(f"{k}={r[k]}" for k in ("event_type", "category", "min_severity") if r[k])
        to = f"{r['target']}:{r['agency_type']}" if r["agency_type"] else r["target"]
        console.print(
            f"#{r['id']:<5} {r['unit_code']:<10} {r['position']:>5}  {match or '(any)'} → {to}, "
            f"SLA {r['sla_hours']} h  {r['note']}"
        )


@rules_app.command("add")
def rules_add(
    unit: Annotated[str, typer.Option(help="county (default) or township (override) code")],
    position: Annotated[int, typer.Option(help="order within the unit")],
    target: Annotated[str, typer.Option(help="grid_member, team or agency")],
    sla_hours: Annotated[int, typer.Option(help="hours to finish")],
    by: Annotated[str, typer.Option(help="who makes the change (recorded)")],
    category: Annotated[str | None, typer.Option()] = None,
    event_type: Annotated[str | None, typer.Option()] = None,
    min_severity: Annotated[str | None, typer.Option()] = None,
    agency_type: Annotated[str | None, typer.Option()] = None,
    priority: Annotated[str | None, typer.Option()] = None,
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """Add a routing rule, in force from today."""
    try:
        spec = RuleSpec.model_validate(
            {
                "unit_code": unit,
                "position": position,
                "target": target,
                "sla_hours": sla_hours,
                "category": category,
                "event_type": event_type,
                "min_severity": min_severity,
                "agency_type": agency_type,
                "priority": priority,
                "note": note,
            }
        )
    except ValidationError as exc:
        fail("rule refused", [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()])
        return
    row = with_pool(lambda pool: rules_store.add_rule(pool, spec, by))
    announce(CommonSettings(), "rules", 0, f"rule {row['id']} added by {by}")
    console.print(f"[green]rule {row['id']} added[/green]")


@rules_app.command("retire")
def rules_retire(rule_id: int, by: Annotated[str, typer.Option(help="who (recorded)")]) -> None:
    """Retire a rule from today."""
    try:
        with_pool(lambda pool: rules_store.retire_rule(pool, rule_id, by))
    except rules_store.RuleNotFound as exc:
        fail(str(exc))
    announce(CommonSettings(), "rules", 0, f"rule {rule_id} retired by {by}")
    console.print(f"rule {rule_id} retired")
