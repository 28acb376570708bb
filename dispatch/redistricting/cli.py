"""`gridctl check` and `gridctl plan`: does a county tile, and redistricting plans built, validated and applied."""

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

from core.plans import PLAN_ADAPTER, RedistrictingPlan
from dispatch.cli_support import console, fail, with_pool
from dispatch.redistricting import store as plan_store
from dispatch.redistricting.builder import build_plan
from dispatch.redistricting.registry_check import county_errors
from dispatch.redistricting.validate import PlanInvalid
from dispatch.registry import history
from dispatch.registry.division_import import BadDivisionFile, read_checked
from dispatch.registry.notify import announce
from dispatch.registry.revisions import bump_revision
from dispatch.settings import CommonSettings

plans_cli = typer.Typer(help="Redistricting: check tiling, and plans.")
plan_app = typer.Typer(help="Redistricting plans (区划调整): build, validate, apply.", no_args_is_help=True)
plans_cli.add_typer(plan_app, name="plan")


@plans_cli.command()
def check(
    county: Annotated[str, typer.Argument(help="6-digit county code")],
    on: Annotated[str | None, typer.Option(help="day, YYYY-MM-DD (default today)")] = None,
) -> None:
    """Check that townships tile the county, villages their township and grids their village."""
    day = date.fromisoformat(on) if on else date.today()

    async def work(pool: asyncpg.Pool) -> list[str]:
        async with pool.acquire() as conn:
            outline, units, grids = await plan_store.load_county(conn, county, day)
        return county_errors(county, outline, units, grids)

    problems = with_pool(work)
    if problems:
        fail(f"{county} does not tile on {day}", problems)
    console.print(f"[green]{county} tiles on {day}: no gaps, no overlaps[/green]")


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
    """Build a plan from two division lists (matching villages by code and name) and print it as JSON; what the
    lists could not settle is listed as review items (on stderr, and in the plan's `review`)."""
    try:
        plan = build_plan(
            read_checked(before), read_checked(after), county, plan_id, date.fromisoformat(effective), basis
        )
    except BadDivisionFile as exc:
        fail("cannot read the division lists", exc.problems)
        return
    sys.stdout.write(orjson.dumps(plan.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode() + "\n")
    ops = Counter(i.op for i in plan.items)
    console.print(f"{len(plan.items)} items (" + ", ".join(f"{n} {op}" for op, n in sorted(ops.items())) + ")")
    for r in plan.review:
        console.print(f"  review {r.code}" + (f" (item {r.item})" if r.item else "") + f": {r.reason}", markup=False)
    console.print(f"{len(plan.review)} review items: what the lists could not settle (in the plan's `review`)")


@plan_app.command("validate")
def plan_validate(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a plan against the registry as of its effective date (every applied plan in it), changing nothing."""
    plan = _read_plan(path)
    try:
        out = with_pool(lambda pool: plan_store.validate(pool, plan))
    except PlanInvalid as exc:
        fail(f"plan {plan.plan_id} is invalid", exc.errors)
        return
    except plan_store.PlanConflict as exc:
        fail(f"plan {plan.plan_id} cannot be applied", [str(exc)])
        return
    c = out.counts
    console.print(
        f"[green]plan {plan.plan_id} is valid[/green] on {plan.effective_date}: {c['units_changed']} units change"
        f" ({c['units_ended']} rows end, {c['units_started']} start), {c['grids_changed']} grids end and"
        f" {c['grids_started']} start, {c['cases_to_move']} open cases move; registry revision"
        f" {c['registry_revision']} (apply with --registry-revision {c['registry_revision']} to refuse a stale one)"
    )
    if plan.review:
        console.print(f"[yellow]{len(plan.review)} review items[/yellow] in the plan: guesses a person should check")
    console.print(f"people: {c['people_carried']} carried, {c['people_ended']} ended, {c['people_review']} to review")
    for line in out.staff_review:
        console.print(f"  review {line}")


@plan_app.command("apply")
def plan_apply(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    by: Annotated[str, typer.Option(help="who applies it (recorded)")],
    registry_revision: Annotated[
        int | None, typer.Option(help="the revision `plan validate` printed: refuse if the registry moved since")
    ] = None,
) -> None:
    """Apply a plan: the registry changes from its effective date and open cases move to the successors."""
    plan = _read_plan(path)
    counts: dict[str, int] = {}

    async def work(pool: asyncpg.Pool) -> int:
        counts.update((await plan_store.apply(pool, plan, by, registry_revision)).counts)
        async with pool.acquire() as conn:
            return await bump_revision(conn, "plan")

    try:
        revision = with_pool(work)
    except PlanInvalid as exc:
        fail(f"plan {plan.plan_id} is invalid; nothing changed", exc.errors)
        return
    except plan_store.PlanConflict as exc:
        fail(f"plan {plan.plan_id} cannot be applied; nothing changed", [str(exc)])
        return
    except plan_store.PlanAlreadyApplied:
        console.print(f"plan {plan.plan_id} was already applied; announcing it again")
        plan = with_pool(lambda pool: history.applied_plan(pool, plan.plan_id)) or plan
        revision = 0
    announce(CommonSettings(), "plan", revision, f"plan {plan.plan_id} applied by {by}", plan=plan)
    console.print(f"[green]plan {plan.plan_id} applied[/green], effective {plan.effective_date}: {counts}")
