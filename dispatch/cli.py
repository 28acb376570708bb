"""`gridctl`: operate the grid registry (镇村治理一张网) and the database from the command line."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import asyncpg
import orjson
import typer
from pydantic import ValidationError
from rich.progress import Progress
from shapely.geometry.base import BaseGeometry

from core.plans import PLAN_ADAPTER, RedistrictingPlan
from dispatch import db
from dispatch.access.cli import users_app
from dispatch.cases.cli import audit_app, cases_app
from dispatch.cli_support import console, fail, with_pool
from dispatch.geometry.synthetic import load_county_outline
from dispatch.geometry.tiling import tiling_errors
from dispatch.people.cli import people_app
from dispatch.redistricting import store as plan_store
from dispatch.redistricting.builder import build_plan
from dispatch.redistricting.validate import PlanInvalid
from dispatch.registry import demo, history, rules_store
from dispatch.registry import geojson as registry_geojson
from dispatch.registry.boundary_import import BadBoundaryFile, read_boundaries, store_boundaries
from dispatch.registry.division_import import BadDivisionFile, read_checked
from dispatch.registry.load import load_county
from dispatch.registry.notify import announce
from dispatch.registry.revisions import bump_revision
from dispatch.registry.rules_store import RuleSpec
from dispatch.settings import CommonSettings

app = typer.Typer(help="Grid registry and database operations (镇村治理一张网).", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data: 青川县 with synthetic grids.", no_args_is_help=True)
plan_app = typer.Typer(help="Redistricting plans (区划调整): build, validate, apply.", no_args_is_help=True)
history_app = typer.Typer(help="Ask the registry about the past.", no_args_is_help=True)
rules_app = typer.Typer(help="Routing rules and SLAs (data, audited).", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(plan_app, name="plan")
app.add_typer(history_app, name="history")
app.add_typer(rules_app, name="rules")
app.add_typer(people_app, name="people")
app.add_typer(audit_app, name="audit")
app.add_typer(cases_app, name="cases")
app.add_typer(users_app, name="users")
OUTLINES = demo.DATA / "counties.geojson"


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply database migrations (Alembic) up to REVISION."""
    db.migrate(CommonSettings().sqlalchemy_url, revision)
    console.print(f"[green]database migrated to {revision}[/green]")


@app.command()
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
    """Import a division list and generate synthetic township, village and grid polygons for its counties.

    All counties are written in one transaction: a bad row or a failed county changes nothing.
    """
    try:
        rows = read_checked(divisions)
    except BadDivisionFile as exc:
        fail(f"{divisions}: nothing imported", exc.problems)
        return
    counties = county or sorted(d.code for d in rows if d.level == "county")
    start = date.fromisoformat(valid_from)

    async def work(pool: asyncpg.Pool) -> list[tuple[str, int, int, int]]:
        summary: list[tuple[str, int, int, int]] = []
        async with pool.acquire() as conn, conn.transaction():
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("generating", total=len(counties))
                for code in counties:
                    progress.update(task, description=f"county {code}")
                    units = await load_county(conn, code, rows, load_county_outline(outlines, code), start, seed)
                    count = Counter(u.level for u in units)
                    summary.append((code, count["township"], count["village"], count["grid"]))
                    progress.advance(task)
        return summary

    try:
        summary = with_pool(work)
    except KeyError as exc:
        fail(f"nothing imported: no outline for county {exc}")
        return
    for code, towns, villages, grids in summary:
        console.print(f"{code}: {towns} townships, {villages} villages, {grids} grids (polygons synthetic)")
    if notify:
        announce(CommonSettings(), "boundaries", 0, f"divisions imported from {divisions.name}")


@app.command()
def check(
    county: Annotated[str, typer.Argument(help="6-digit county code")],
    on: Annotated[str | None, typer.Option(help="day, YYYY-MM-DD (default today)")] = None,
) -> None:
    """Check that townships tile the county, villages their township and grids their village."""
    day = date.fromisoformat(on) if on else date.today()

    async def work(pool: asyncpg.Pool) -> list[str]:
        async with pool.acquire() as conn:
            outline, units, grids = await plan_store.load_county(conn, county, day)
        problems = tiling_errors(county, outline, {c: u.geom for c, u in units.items() if u.level == "township"})
        villages_of: dict[str, dict[str, BaseGeometry]] = {}
        for u in units.values():
            if u.level == "village":
                villages_of.setdefault(u.parent, {})[u.code] = u.geom
        grids_of: dict[str, dict[str, BaseGeometry]] = {}
        for g in grids.values():
            grids_of.setdefault(g.village, {})[g.code] = g.geom
        for parent, children in sorted((villages_of | grids_of).items()):
            problems += tiling_errors(parent, units[parent].geom, children)
        return problems

    problems = with_pool(work)
    if problems:
        fail(f"{county} does not tile on {day}", problems)
    console.print(f"[green]{county} tiles on {day}: no gaps, no overlaps[/green]")


@app.command()
def export(
    level: Annotated[str, typer.Argument(help="township, village or grid")],
    county: Annotated[str, typer.Option(help="6-digit county code")],
    on: Annotated[str | None, typer.Option(help="day, YYYY-MM-DD (default today)")] = None,
) -> None:
    """Write one level of a county as GeoJSON to standard output."""
    day = date.fromisoformat(on) if on else date.today()
    text = with_pool(lambda pool: history.export_geojson(pool, county, level, day))
    sys.stdout.write(text + "\n")


@app.command("import-boundaries")
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


def _read_plan(path: Path) -> RedistrictingPlan:
    try:
        return PLAN_ADAPTER.validate_json(path.read_bytes())
    except ValidationError as exc:
        fail(f"{path} is not a valid plan", [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()])
        raise


@plan_app.command("build")
def plan_build(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    before: Annotated[Path, typer.Option(exists=True, help="division list before")],
    after: Annotated[Path, typer.Option(exists=True, help="division list after")],
    effective: Annotated[str, typer.Option(help="effective date, YYYY-MM-DD")],
    basis: Annotated[str, typer.Option(help="legal basis, e.g. 广府〔2019〕118号")],
    plan_id: Annotated[str, typer.Option(help="plan id")],
) -> None:
    """Build a plan from two division lists (matching villages by code and name) and print it as JSON."""
    try:
        plan = build_plan(
            read_checked(before), read_checked(after), county, plan_id, date.fromisoformat(effective), basis
        )
    except BadDivisionFile as exc:
        fail("cannot read the division lists", exc.problems)
        return
    sys.stdout.write(orjson.dumps(plan.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode() + "\n")
    inferred = sum(1 for i in plan.items if i.note.startswith("inferred"))
    console.print(f"{len(plan.items)} items, {inferred} inferred without a name match (review them)")


@plan_app.command("validate")
def plan_validate(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a plan against the registry without changing anything."""
    plan = _read_plan(path)
    try:
        out = with_pool(lambda pool: plan_store.validate(pool, plan))
    except PlanInvalid as exc:
        fail(f"plan {plan.plan_id} is invalid", exc.errors)
        return
    console.print(
        f"[green]plan {plan.plan_id} is valid[/green]: {len(out.changed_units)} units and "
        f"{len(out.changed_grids)} grids change on {plan.effective_date}"
    )


@plan_app.command("apply")
def plan_apply(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    by: Annotated[str, typer.Option(help="who applies it (recorded)")],
) -> None:
    """Apply a plan: the registry changes from its effective date and open cases move to the successors."""
    plan = _read_plan(path)

    async def work(pool: asyncpg.Pool) -> int:
        await plan_store.apply(pool, plan, by)
        async with pool.acquire() as conn:
            return await bump_revision(conn, "plan")

    try:
        revision = with_pool(work)
    except PlanInvalid as exc:
        fail(f"plan {plan.plan_id} is invalid; nothing changed", exc.errors)
        return
    except plan_store.PlanAlreadyApplied:
        console.print(f"plan {plan.plan_id} was already applied; announcing it again")
        plan = with_pool(lambda pool: history.applied_plan(pool, plan.plan_id)) or plan
        revision = 0
    announce(CommonSettings(), "plan", revision, f"plan {plan.plan_id} applied by {by}", plan=plan)
    console.print(f"[green]plan {plan.plan_id} applied[/green], effective {plan.effective_date}")


@history_app.command("point")
def history_point(lon: float, lat: float, on: Annotated[str, typer.Option(help="YYYY-MM-DD")]) -> None:
    """Who was responsible for this point on a given day."""
    found = with_pool(lambda pool: history.responsible_at(pool, lon, lat, date.fromisoformat(on)))
    if found is None:
        fail(f"({lon}, {lat}) was in no grid on {on}")
    console.print_json(data=found)


@history_app.command("code")
def history_code(code: str) -> None:
    """Which units an old code became (following merges, recodes and splits)."""
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


@app.command()
def vacancies() -> None:
    """Grids without a member today, and the duty post answering for each (属地兜底)."""
    rows = with_pool(lambda pool: registry_geojson.vacant_grids(pool, date.today()))
    for r in rows:
        console.print(f"{r['code']} {r['name']}: vacant → {r['fallback'] or 'NO FALLBACK'} {r['fallback_name'] or ''}")
    console.print(f"{len(rows)} vacant grid(s)")


if __name__ == "__main__":
    app()
