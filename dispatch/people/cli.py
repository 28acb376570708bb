"""`gridctl people`: list, add and end grid members, officers, legal reviewers and agency staff, and their posts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from dispatch.cli_support import console, with_pool
from dispatch.clock import local_day
from dispatch.people import store as people_store
from dispatch.people.model import PersonSpec, PostSpec
from dispatch.registry.notify import announce
from dispatch.settings import CommonSettings

people_app = typer.Typer(
    help="People and posts: grid members, officers, legal reviewers, agency staff.", no_args_is_help=True
)
By = Annotated[str, typer.Option(help="who makes the change (announced and logged)")]
PROBLEMS = (people_store.Refused, people_store.NotFound, people_store.Conflict)


def _today() -> date:
    return local_day(datetime.now(UTC))


def _refuse(what: str, problems: list[str]) -> None:
    console.print(f"[red]{what}[/red]")
    for problem in problems:
        console.print(f"  - {problem}")
    raise typer.Exit(1)


def _problems(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    if isinstance(exc, people_store.Refused):
        return [f"{'.'.join(str(p) for p in loc[1:])}: {msg}" for loc, msg in exc.problems]
    return [str(exc)]


def _changed(reason: str, notify: bool) -> None:
    if notify:
        announce(CommonSettings(), "people", 0, reason)
    console.print(f"[green]{reason}[/green]")


def _show(row: dict[str, Any]) -> None:
    posts = ", ".join(f"{p['grid_code']} ({p['post']})" for p in row["posts"])
    team = f" {row['team_name']}" if row["team_id"] else ""
    print(f"{row['id']:<24} {row['role']:<15} {row['unit_code']:<15} {row['name']}{team}  {posts}")


@people_app.command("list")
def people_list(
    unit: Annotated[str | None, typer.Option(help="county, township, village or grid code")] = None,
    grid: Annotated[str | None, typer.Option(help="people posted to this grid")] = None,
    role: Annotated[str | None, typer.Option(help="grid_member, officer, legal_reviewer, agency_staff, duty")] = None,
    on: Annotated[str | None, typer.Option(help="day, YYYY-MM-DD (default today)")] = None,
) -> None:
    """Who serves a unit or a grid on a day, with their posts."""
    day = date.fromisoformat(on) if on else _today()
    rows = with_pool(lambda pool: people_store.list_people(pool, day, unit, grid, role, limit=5000))
    for row in rows:
        _show(row)
    console.print(f"{len(rows)} people on {day}")


@people_app.command("teams")
def people_teams(unit: Annotated[str | None, typer.Option(help="county or township code")] = None) -> None:
    """Enforcement teams and stationed agencies in service today."""
    for t in with_pool(lambda pool: people_store.list_teams(pool, _today(), unit)):
        print(f"{t['id']:<24} {t['kind']:<12} {t['agency_type'] or '':<10} {t['name']}  {t['members']} people")


@people_app.command("history")
def people_history(person_id: str) -> None:
    """Where a person served and when: each membership (unit, team, the plan that moved them) and each grid post."""
    row = with_pool(lambda pool: people_store.get_person(pool, person_id))
    if row is None:
        _refuse(f"no person {person_id}", [])
        return
    for m in row["memberships"]:
        plan = f"  (plan {m['plan_id']})" if m["plan_id"] else ""
        print(f"{m['valid_from']} – {m['valid_to'] or '':<10} {m['unit_code']:<15} {m['team_id'] or ''}{plan}")
    for p in row["posts"]:
        print(f"{p['valid_from']} – {p['valid_to'] or '':<10} grid {p['grid_code']} ({p['post']})")


@people_app.command("add")
def people_add(
    role: Annotated[str, typer.Option(help="grid_member, officer, legal_reviewer or agency_staff")],
    name: Annotated[str, typer.Option(help="full name")],
    by: By,
    unit: Annotated[str | None, typer.Option(help="village or township served (team roles: the township)")] = None,
    grid: Annotated[list[str] | None, typer.Option(help="grid member's grid; repeat for several")] = None,
    post: Annotated[str | None, typer.Option(help="full_time (default) or part_time")] = None,
    team: Annotated[str | None, typer.Option(help="team id (default: the township's team for the role)")] = None,
    agency_type: Annotated[str | None, typer.Option(help="agency staff: police, market, justice…")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    person_id: Annotated[str | None, typer.Option("--id", help="id to use (default generated)")] = None,
    notify: Annotated[bool, typer.Option(help="tell running stream processors to reload")] = True,
) -> None:
    """Add a person from today: a grid member with their grids, or a member of a township's team."""
    fields = {"role": role, "name": name, "unit_code": unit, "grids": grid or [], "post": post, "team_id": team}
    fields |= {"agency_type": agency_type, "phone": phone, "id": person_id}
    try:
        spec = PersonSpec.model_validate(fields)
        row = with_pool(lambda pool: people_store.add_person(pool, spec, _today()))
    except (ValidationError, *PROBLEMS) as exc:
        _refuse("person refused; nothing changed", _problems(exc))
        return
    _show(row)
    _changed(f"{row['role']} {row['id']} added to {row['unit_code']} by {by}", notify)


@people_app.command("post")
def people_post(
    person_id: Annotated[str, typer.Argument(help="grid member's id")],
    grid: Annotated[str, typer.Argument(help="15-digit grid code")],
    by: By,
    post: Annotated[str, typer.Option(help="full_time or part_time")] = "full_time",
    notify: Annotated[bool, typer.Option(help="tell running stream processors to reload")] = True,
) -> None:
    """Post a grid member to one more grid of their unit, from today."""
    try:
        spec = PostSpec.model_validate({"grid_code": grid, "post": post})
        with_pool(lambda pool: people_store.add_post(pool, person_id, spec, _today()))
    except (ValidationError, *PROBLEMS) as exc:
        _refuse("post refused; nothing changed", _problems(exc))
        return
    _changed(f"{person_id} posted to grid {grid} by {by}", notify)


@people_app.command("end")
def people_end(
    person_id: Annotated[str, typer.Argument(help="person's id")],
    by: By,
    grid: Annotated[str | None, typer.Option(help="end only the post on this grid")] = None,
    notify: Annotated[bool, typer.Option(help="tell running stream processors to reload")] = True,
) -> None:
    """End a post (with --grid) or a person's service with all their posts, today; history keeps them."""
    try:
        if grid is not None:
            with_pool(lambda pool: people_store.end_post(pool, person_id, grid, _today()))
            reason = f"{person_id} left grid {grid}, ended by {by}"
        else:
            posts = with_pool(lambda pool: people_store.end_person(pool, person_id, _today()))
            reason = f"{person_id} ended with {posts} post(s) by {by}"
    except PROBLEMS as exc:
        _refuse("nothing ended", _problems(exc))
        return
    _changed(reason, notify)
